namespace Portcullis.Fuzz.Tests;

/// <summary>
/// Every corpus input through its target without the fuzzer: the seeds, and the crashers fuzz/run found and we fixed
/// (kept as regression inputs). Fast enough for every build; the fuzzing itself is fuzz/run.
/// </summary>
public sealed class CorpusReplayTests
{
    private static readonly string Fuzz = Path.Combine(RepositoryRoot(), "fuzz");

    public static TheoryData<string> Targets() => [.. FuzzTargets.Names];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Corpus_EveryInput_PassesTheTargetsChecks(string name)
    {
        var target = FuzzTargets.Create(name)!;
        var files = Directory.GetFiles(Path.Combine(Fuzz, "corpora", name)).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(files);
        var findings = new List<string>();
        foreach (var file in files)
        {
            try
            {
                target.Run(File.ReadAllBytes(file));
            }
            catch (Exception e)
            {
                findings.Add($"{Path.GetFileName(file)}: {e.GetType().Name}: {e.Message}");
            }
        }
        Assert.True(findings.Count == 0, $"{name}: " + string.Join("\n", findings));
        // A corpus the parser refuses whole would fuzz only the refusals.
        Assert.True(target.Accepted > 0, $"{name}: no corpus input is accepted");
    }

    [Theory]
    [MemberData(nameof(Targets))]
    public void Corpus_ComputedSeeds_MatchTheHarness(string name)
    {
        // Seeds carrying MACs or ciphertext are valid only under the harness's fixed keys; a changed fixture must
        // come with regenerated seeds (`portcullis-fuzz seed fuzz/corpora`), or the fuzzer starts from refusals.
        foreach (var (seed, data) in FuzzTargets.Create(name)!.ComputedSeeds())
        {
            var path = Path.Combine(Fuzz, "corpora", name, "computed-" + seed);
            Assert.True(File.Exists(path), $"{path} is missing");
            Assert.True(File.ReadAllBytes(path).AsSpan().SequenceEqual(data), $"{path} differs from what the harness computes");
        }
    }

    [Fact]
    public void Layout_EveryTargetHasCorpusAndDictionary_AndNothingElseIsThere()
    {
        var corpora = Directory.GetDirectories(Path.Combine(Fuzz, "corpora")).Select(d => Path.GetFileName(d)!).Order().ToList();
        var dictionaries = Directory.GetFiles(Path.Combine(Fuzz, "dictionaries"), "*.dict").Select(f => Path.GetFileNameWithoutExtension(f)!).Order().ToList();
        var names = FuzzTargets.Names.Order().ToList();
        Assert.Equal(names, corpora);
        Assert.Equal(names, dictionaries);
        Assert.All(FuzzTargets.Names, n => Assert.Equal(n, FuzzTargets.Create(n)!.Name));
    }

    [Fact]
    public void Run_ABrokenProperty_IsAFinding()
    {
        // The harness must be able to fail: a MAC1-valid initiation whose Noise payload is the genuine one but for a
        // flipped timestamp byte is refused (not a finding), while a check that does not hold throws.
        var target = FuzzTargets.Create("wg-initiation")!;
        var genuine = target.ComputedSeeds().Single(s => s.Name == "genuine").Data.ToArray();
        target.Run(genuine);
        Assert.Equal(1, target.Accepted);
        genuine[100] ^= 1;
        target.Run(genuine);
        Assert.Equal(1, target.Accepted);
        Assert.Throws<FuzzCheckException>(() => Check.That(false, "a property"));
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Portcullis.slnx")))
            directory = directory.Parent;
        return directory?.FullName ?? throw new InvalidOperationException("Portcullis.slnx not found above " + AppContext.BaseDirectory);
    }
}
