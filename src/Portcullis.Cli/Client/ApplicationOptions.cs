using System.CommandLine;
using Portcullis.Client.Applications;

namespace Portcullis.Cli.Client;

/// <summary>
/// `--NAME URL`, `--NAME-user USER`, `--NAME-password-file PATH` for one application updater. The password comes
/// from a file only: a command line is readable by every user through /proc.
/// </summary>
internal sealed class ApplicationOptions(string name, string description)
{
    private readonly Option<string?> _url = new($"--{name}") { Description = $"With --forward: tell {description} each new port.", HelpName = "URL" };
    private readonly Option<string?> _user = new($"--{name}-user") { Description = $"With --{name}: the user to log in as.", HelpName = "NAME" };
    private readonly Option<string?> _passwordFile = new($"--{name}-password-file") { Description = $"With --{name}-user: a file whose first line is the password.", HelpName = "PATH" };

    public void AddTo(Command command)
    {
        command.Options.Add(_url);
        command.Options.Add(_user);
        command.Options.Add(_passwordFile);
    }

    public void Read(ParseResult result, ApplicationKind kind, List<ApplicationEndpoint> endpoints, List<string> errors)
    {
        var text = result.GetValue(_url);
        var user = result.GetValue(_user);
        var passwordFile = result.GetValue(_passwordFile);
        if (text is null)
        {
            if (user is not null || passwordFile is not null)
                errors.Add($"--{name}-user and --{name}-password-file only make sense with --{name}");
            return;
        }
        if (!ApplicationEndpoint.TryParseUrl(text, out var url))
        {
            errors.Add($"--{name} '{text}' is not an http:// or https:// URL (credentials go in --{name}-user and --{name}-password-file)");
            return;
        }
        if (passwordFile is not null && user is null)
            errors.Add($"--{name}-password-file needs --{name}-user");
        else if (passwordFile is not null && !File.Exists(passwordFile))
            errors.Add($"--{name}-password-file '{passwordFile}' does not exist");
        endpoints.Add(new ApplicationEndpoint(kind, url!) { User = user, PasswordFile = passwordFile });
    }
}
