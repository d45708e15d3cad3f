using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>
/// <see cref="OnlineRetail.LocateSample()"/>'s search through explicit starting points: each place in its order, the
/// environment variable's authority, and the message of a failed search. Every case builds its own folders in a
/// temporary directory, so none depends on the repository's copy.
/// </summary>
public sealed class OnlineRetailLocateTests : IDisposable
{
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("lifelongprefs-locate-");

    public void Dispose() => _temp.Delete(recursive: true);

    private string Folder(params string[] parts)
    {
        string path = Path.Combine([_temp.FullName, .. parts]);
        Directory.CreateDirectory(path);
        return path;
    }

    private static string Touch(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "not read by the search");
        return path;
    }

    [Fact]
    public void Environment_variable_naming_a_file_wins_over_every_other_place()
    {
        string named = Touch(Path.Combine(Folder("elsewhere"), "my-copy.csv.gz"));
        string app = Folder("app");
        Touch(Path.Combine(app, OnlineRetail.SampleFileName));

        Assert.Equal(named, OnlineRetail.LocateSample(named, app, app));
    }

    [Fact]
    public void Environment_variable_naming_a_folder_finds_the_file_in_it()
    {
        string folder = Folder("data");
        string file = Touch(Path.Combine(folder, OnlineRetail.SampleFileName));

        Assert.Equal(file, OnlineRetail.LocateSample(folder, Folder("app"), Folder("cwd")));
    }

    [Fact]
    public void Environment_variable_pointing_nowhere_fails_even_when_another_copy_exists()
    {
        string app = Folder("app");
        Touch(Path.Combine(app, OnlineRetail.SampleFileName));
        string missing = Path.Combine(_temp.FullName, "no-such-file.csv.gz");

        var e = Assert.Throws<FileNotFoundException>(() => OnlineRetail.LocateSample(missing, app, app));

        Assert.Equal(missing, e.FileName);
        Assert.Contains(OnlineRetail.SampleEnvironmentVariable, e.Message, StringComparison.Ordinal);
        Assert.Contains(missing, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Path.Combine(app, OnlineRetail.SampleFileName), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Empty_environment_variable_counts_as_unset()
    {
        string app = Folder("app");
        string file = Touch(Path.Combine(app, OnlineRetail.SampleFileName));

        Assert.Equal(file, OnlineRetail.LocateSample(string.Empty, app, Folder("cwd")));
    }

    [Fact]
    public void Base_directory_comes_before_the_current_directory()
    {
        string app = Folder("app");
        string cwd = Folder("cwd");
        string besideApp = Touch(Path.Combine(app, OnlineRetail.SampleFileName));
        Touch(Path.Combine(cwd, OnlineRetail.SampleFileName));

        Assert.Equal(besideApp, OnlineRetail.LocateSample(null, app, cwd));
    }

    [Fact]
    public void Repository_copy_is_found_from_a_folder_deep_inside_the_clone()
    {
        string clone = Folder("clone");
        string copy = Touch(Path.Combine(clone, "samples", "data", "uci-online-retail", "online_retail.csv.gz"));
        string deep = Folder("clone", "tests", "bin", "Release", "net10.0");

        Assert.Equal(copy, OnlineRetail.LocateSample(null, Folder("app"), deep));
    }

    [Fact]
    public void Nearer_folder_wins_and_a_plain_copy_beats_the_repository_path_in_the_same_folder()
    {
        string outer = Folder("outer");
        Touch(Path.Combine(outer, OnlineRetail.SampleFileName));
        string inner = Folder("outer", "inner");
        string innerPlain = Touch(Path.Combine(inner, OnlineRetail.SampleFileName));
        Touch(Path.Combine(inner, OnlineRetail.SamplePath));
        string cwd = Folder("outer", "inner", "cwd");

        Assert.Equal(innerPlain, OnlineRetail.LocateSample(null, Folder("app"), cwd));
        Assert.Equal(innerPlain, OnlineRetail.LocateSample(null, Folder("app"), inner));
    }

    [Fact]
    public void Failed_search_lists_every_place_tried_in_order_and_says_how_to_get_the_file()
    {
        string app = Folder("app");
        string cwd = Folder("a", "b");
        // The oracle: the places the remarks promise, in their order, for folders this test made.
        var expected = new List<string> { Path.Combine(app, OnlineRetail.SampleFileName) };
        for (DirectoryInfo? dir = new(cwd); dir is not null; dir = dir.Parent)
        {
            expected.Add(Path.Combine(dir.FullName, OnlineRetail.SampleFileName));
            expected.Add(Path.GetFullPath(Path.Combine(dir.FullName, OnlineRetail.SamplePath)));
        }

        Assert.All(expected, path => Assert.False(File.Exists(path), $"{path} exists on this machine; the test needs it absent"));

        var e = Assert.Throws<FileNotFoundException>(() => OnlineRetail.LocateSample(null, app, cwd));

        Assert.Equal(OnlineRetail.SampleFileName, e.FileName);
        string[] listed = [.. e.Message.Split(Environment.NewLine).Where(l => l.StartsWith("  ", StringComparison.Ordinal)).Select(l => l.Trim())];
        Assert.Equal(expected, listed);
        Assert.Contains("CC BY 4.0", e.Message, StringComparison.Ordinal);
        Assert.Contains("UCI", e.Message, StringComparison.Ordinal);
        Assert.Contains(OnlineRetail.SampleEnvironmentVariable, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_of_a_path_whose_folder_is_missing_throws_the_documented_FileNotFoundException()
    {
        // SamplePath resolved outside a clone: FileStream alone would throw DirectoryNotFoundException.
        string missing = Path.Combine(_temp.FullName, OnlineRetail.SamplePath);

        var e = Assert.Throws<FileNotFoundException>(() => OnlineRetail.Load(missing));

        Assert.Equal(missing, e.FileName);
        Assert.Contains(nameof(OnlineRetail.LocateSample), e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Load_of_a_folder_throws_FileNotFoundException()
    {
        string folder = Folder("a-folder");

        var e = Assert.Throws<FileNotFoundException>(() => OnlineRetail.Load(folder));

        Assert.Equal(folder, e.FileName);
    }
}

/// <summary>Tests that set the process's environment variable run alone: nothing else may read it meanwhile.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ProcessEnvironmentTests
{
    /// <summary>The collection's name.</summary>
    public const string Name = "process environment";
}

/// <summary><see cref="OnlineRetail.LocateSample()"/> itself, reading the real environment variable and directories.</summary>
[Collection(ProcessEnvironmentTests.Name)]
public sealed class OnlineRetailLocateEnvironmentTests : IDisposable
{
    private readonly string? _saved = Environment.GetEnvironmentVariable(OnlineRetail.SampleEnvironmentVariable);
    private readonly DirectoryInfo _temp = Directory.CreateTempSubdirectory("lifelongprefs-locate-env-");

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(OnlineRetail.SampleEnvironmentVariable, _saved);
        _temp.Delete(recursive: true);
    }

    [Fact]
    public void Set_variable_is_used()
    {
        string file = Path.Combine(_temp.FullName, "copy.csv.gz");
        File.WriteAllText(file, "x");
        Environment.SetEnvironmentVariable(OnlineRetail.SampleEnvironmentVariable, file);

        Assert.Equal(file, OnlineRetail.LocateSample());
    }

    [Fact]
    public void Set_variable_pointing_nowhere_throws_the_documented_exception()
    {
        string missing = Path.Combine(_temp.FullName, "missing.csv.gz");
        Environment.SetEnvironmentVariable(OnlineRetail.SampleEnvironmentVariable, missing);

        var e = Assert.Throws<FileNotFoundException>(() => OnlineRetail.LocateSample());

        Assert.Equal(missing, e.FileName);
    }

    [Fact]
    public void Unset_variable_finds_the_repository_copy_from_the_test_run()
    {
        Environment.SetEnvironmentVariable(OnlineRetail.SampleEnvironmentVariable, null);

        // The test host runs inside the clone, so the search reaches samples/data/ (found independently by SampleFiles).
        Assert.Equal(Path.GetFullPath(SampleFiles.OnlineRetail), OnlineRetail.LocateSample());
    }
}
