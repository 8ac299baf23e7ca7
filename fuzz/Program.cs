using Portcullis.Fuzz;
using SharpFuzz;

// portcullis-fuzz list                      the targets
// portcullis-fuzz fuzz TARGET               under afl-fuzz (fuzz/run starts it): one input per execution on stdin
// portcullis-fuzz replay TARGET PATH...     each file (or every file of each folder) once, no fuzzer; exit 1 on a finding
// portcullis-fuzz seed CORPORA              writes the computed seeds (MACs, ciphertext) to CORPORA/TARGET/
return args switch
{
    ["list"] => List(),
    ["fuzz", var name] => WithTarget(name, Fuzz),
    ["replay", var name, .. var paths] when paths.Length > 0 => WithTarget(name, n => Replay(FuzzTargets.Create(n)!, paths)),
    ["seed", var folder] => Seed(folder),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: portcullis-fuzz list | fuzz TARGET | replay TARGET PATH... | seed CORPORA");
    return 2;
}

static int List()
{
    // Names only: under afl-fuzz no target may be made before the fork server starts (see Fuzz).
    foreach (var name in FuzzTargets.Names)
        Console.WriteLine(name);
    return 0;
}

static int WithTarget(string name, Func<string, int> action)
{
    if (FuzzTargets.Names.Contains(name))
        return action(name);
    Console.Error.WriteLine($"no target '{name}'; `list` names them");
    return 2;
}

// The target is made inside the first execution: instrumented code run before the fork server starts would write to
// coverage memory that is not mapped yet. (SharpFuzz discards the first execution's coverage: static set-up.)
static int Fuzz(string name)
{
    FuzzTarget? target = null;
    void Once(Stream stream)
    {
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        target ??= FuzzTargets.Create(name)!;
        target.Run(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
    }
    if (FuzzTargets.RunsOutOfProcess(name))
        Fuzzer.OutOfProcess.Run(Once);
    else
        Fuzzer.Run(Once);
    return 0;
}

static int Replay(FuzzTarget target, string[] paths)
{
    var files = paths.SelectMany(p => Directory.Exists(p) ? Directory.EnumerateFiles(p, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]).ToList();
    var findings = 0;
    foreach (var file in files)
    {
        try
        {
            target.Run(File.ReadAllBytes(file));
        }
        catch (Exception e)
        {
            findings++;
            Console.Error.WriteLine($"{target.Name}: {file}: {e}");
        }
    }
    Console.WriteLine($"{target.Name}: {files.Count} inputs, {target.Accepted} accepted, {findings} findings");
    return findings == 0 ? 0 : 1;
}

static int Seed(string folder)
{
    foreach (var target in FuzzTargets.Names.Select(n => FuzzTargets.Create(n)!))
    {
        foreach (var (name, data) in target.ComputedSeeds())
        {
            var directory = Path.Combine(folder, target.Name);
            Directory.CreateDirectory(directory);
            File.WriteAllBytes(Path.Combine(directory, "computed-" + name), data);
        }
    }
    return 0;
}
