using Portcullis.WireGuard.Uapi;
using static Portcullis.WireGuard.Tests.Uapi.UapiTestKeys;

namespace Portcullis.WireGuard.Tests.Uapi;

/// <summary>Mutated requests: the parser answers with a request or a UapiException, never anything else.</summary>
public sealed class UapiSetParserFuzzTests
{
    private static readonly string Seed =
        $"private_key={AlicePrivateHex}\nlisten_port=51820\nfwmark=7\nreplace_peers=true\npublic_key={BobPublicHex}\n" +
        $"preshared_key={PresharedHex}\nendpoint=[2001:db8::1]:51820\npersistent_keepalive_interval=25\n" +
        "replace_allowed_ips=true\nallowed_ip=10.0.0.2/32\nallowed_ip=-fd00::/64\nprotocol_version=1\nremove=true\nupdate_only=true\n";

    private const string Alphabet = "=\n-/:[]%.0123456789abcdefx_ \0\u00ff";

    [Fact]
    public void Parse_RandomMutations_OnlyEverThrowsUapiException()
    {
        var random = new Random(20240917);
        var outcomes = new int[2];
        for (var round = 0; round < 20_000; round++)
        {
            var text = Seed.ToCharArray().ToList();
            var edits = random.Next(1, 6);
            for (var e = 0; e < edits; e++)
            {
                var at = random.Next(text.Count);
                switch (random.Next(3))
                {
                    case 0:
                        text[at] = Alphabet[random.Next(Alphabet.Length)];
                        break;
                    case 1:
                        text.Insert(at, Alphabet[random.Next(Alphabet.Length)]);
                        break;
                    default:
                        text.RemoveAt(at);
                        break;
                }
            }

            try
            {
                UapiSetParser.Parse(new string([.. text]));
                outcomes[0]++;
            }
            catch (UapiException e)
            {
                Assert.True(e.Errno is UapiErrno.Invalid or UapiErrno.Protocol, $"errno {e.Errno}");
                outcomes[1]++;
            }
        }

        // Both paths were exercised, so the loop really tested something.
        Assert.True(outcomes[0] > 100 && outcomes[1] > 100, $"accepted {outcomes[0]}, refused {outcomes[1]}");
    }
}
