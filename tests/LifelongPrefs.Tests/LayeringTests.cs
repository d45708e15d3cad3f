using System.Text.RegularExpressions;
using LifelongPrefs.Tests.Infrastructure;

namespace LifelongPrefs.Tests;

/// <summary>
/// The library's layers depend only downward (see ARCHITECTURE's layer table), checked by reading the source tree:
/// Tensors and Data name no other part of the library; nothing below Models (Tensors, Nn, Training, Data,
/// Evaluation/Metrics) names Models or the protocols; Models does not name the protocols, which sit above it.
/// </summary>
public partial class LayeringTests
{
    private const string Root = "LifelongPrefs";

    /// <summary>Each folder's rule: the library namespaces its files must not name (null = any but its own).</summary>
    private static readonly (string Folder, string[]? Forbidden)[] Rules =
    [
        ("Tensors", null),
        ("Data", null),
        ("Nn", ["LifelongPrefs.Models", "LifelongPrefs.Evaluation.Protocols"]),
        ("Training", ["LifelongPrefs.Models", "LifelongPrefs.Evaluation.Protocols"]),
        ("Evaluation/Metrics", ["LifelongPrefs.Models", "LifelongPrefs.Evaluation.Protocols"]),
        ("Models", ["LifelongPrefs.Evaluation.Protocols"]),
        ("Privacy", ["LifelongPrefs.Lifelong"]),
    ];

    private static string SourceRoot => Path.Combine(Repository.Root, "src", Root);

    [GeneratedRegex(@"^\s*namespace\s+([\w.]+)", RegexOptions.Multiline)]
    private static partial Regex NamespaceDeclaration();

    // A namespace named in full (using lines, aliases, global:: or qualified names) ...
    [GeneratedRegex(@"\bLifelongPrefs(?:\.[A-Z]\w*)+")]
    private static partial Regex QualifiedName();

    // ... or relative to the enclosing LifelongPrefs namespace (e.g. "Models.IRecommender" inside LifelongPrefs.Data).
    // Only the upper layers' names count here: a lower one ("Data.", "Nn.") is too often a member access.
    [GeneratedRegex(@"(?<![\w.])((?:Models|Evaluation\.Protocols|Persistence|Lifelong|Privacy)(?:\.[A-Z]\w*)*)\.[A-Z]\w*")]
    private static partial Regex RelativeName();

    /// <summary>
    /// The namespace a file's folder gives it: Evaluation/Metrics keeps LifelongPrefs.Evaluation, and every folder under
    /// Models (Scoring, one per model) keeps LifelongPrefs.Models.
    /// </summary>
    private static string NamespaceOf(string relativeFolder)
    {
        string folder = relativeFolder.Replace('\\', '/');
        return folder switch
        {
            "Evaluation/Metrics" => "LifelongPrefs.Evaluation",

            // A model's folder and the shared scorers are houses for files, not namespaces: users need one using.
            _ when folder.StartsWith("Models/", StringComparison.Ordinal) => "LifelongPrefs.Models",

            // Likewise the tracker's parts (learner, stores, profiles): one using brings the whole facade.
            _ when folder.StartsWith("Lifelong/", StringComparison.Ordinal) => "LifelongPrefs.Lifelong",
            _ => string.Join('.', new[] { Root }.Concat(folder.Split('/', StringSplitOptions.RemoveEmptyEntries))),
        };
    }

    /// <summary>The violations of one file's text against its folder's rule (empty when it complies).</summary>
    internal static List<string> Violations(string folder, string[]? forbidden, string text)
    {
        var violations = new List<string>();
        string own = NamespaceOf(folder);
        if (Regex.IsMatch(text, @"^\s*global\s+using\s+(static\s+)?LifelongPrefs", RegexOptions.Multiline))
        {
            violations.Add("has a global using of a library namespace, which would leak into every layer");
        }

        IEnumerable<string> named = QualifiedName().Matches(text).Select(m => m.Value)
            .Concat(RelativeName().Matches(text).Select(m => $"{Root}.{m.Groups[1].Value}"));
        foreach (string name in named.Distinct())
        {
            bool bad = forbidden is null
                ? !(name == own || name.StartsWith(own + ".", StringComparison.Ordinal))
                : forbidden.Any(f => name == f || name.StartsWith(f + ".", StringComparison.Ordinal));

            // A name inside the file's own namespace is never a dependency (e.g. "Nn.Losses" below Nn).
            if (bad && !(name == own || name.StartsWith(own + ".", StringComparison.Ordinal)))
            {
                violations.Add($"names {name}");
            }
        }

        return violations;
    }

    public static TheoryData<string> Folders() => new(Rules.Select(r => r.Folder));

    [Theory]
    [MemberData(nameof(Folders))]
    public void Each_layer_names_only_the_layers_below_it(string folder)
    {
        string[]? forbidden = Rules.Single(r => r.Folder == folder).Forbidden;
        string path = Path.Combine(SourceRoot, folder);
        Assert.True(Directory.Exists(path), $"{path} is missing");
        string[] files = Directory.GetFiles(path, "*.cs", SearchOption.AllDirectories);
        Assert.NotEmpty(files);
        var failures = new List<string>();
        foreach (string file in files)
        {
            string relativeFolder = Path.GetRelativePath(SourceRoot, Path.GetDirectoryName(file)!);
            string[]? rule = forbidden;
            if (rule is null)
            {
                // "Nothing but the BCL" holds for the whole subtree: its own namespace and the ones under it.
                relativeFolder = folder;
            }

            failures.AddRange(Violations(relativeFolder, rule, File.ReadAllText(file)).Select(v => $"{Path.GetRelativePath(SourceRoot, file)} {v}"));
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void Every_file_declares_its_folders_namespace()
    {
        var failures = new List<string>();
        foreach (string file in Directory.GetFiles(SourceRoot, "*.cs", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(SourceRoot, file).Replace('\\', '/');
            if (relative.StartsWith("obj/", StringComparison.Ordinal) || relative.StartsWith("bin/", StringComparison.Ordinal))
            {
                continue;
            }

            if (relative == "GlobalUsings.cs")
            {
                continue; // the project's global usings: no types, so no namespace
            }

            string expected = NamespaceOf(Path.GetDirectoryName(relative) ?? "");
            string[] declared = [.. NamespaceDeclaration().Matches(File.ReadAllText(file)).Select(m => m.Groups[1].Value)];
            if (declared.Length != 1 || declared[0] != expected)
            {
                failures.Add($"{relative} declares [{string.Join(", ", declared)}] but its folder means {expected}");
            }
        }

        Assert.True(failures.Count == 0, string.Join(Environment.NewLine, failures));
    }

    [Fact]
    public void Evaluation_holds_only_the_metrics_and_protocols_folders()
    {
        string evaluation = Path.Combine(SourceRoot, "Evaluation");
        Assert.Empty(Directory.GetFiles(evaluation, "*.cs"));
        Assert.Equal(["Metrics", "Protocols"], Directory.GetDirectories(evaluation).Select(Path.GetFileName).Order());
    }

    [Theory]
    [InlineData("Data", null, "using LifelongPrefs.Models;\nnamespace LifelongPrefs.Data;", "names LifelongPrefs.Models")]
    [InlineData("Data", null, "namespace LifelongPrefs.Data;\nclass A { Models.IRecommender? r; }", "names LifelongPrefs.Models")]
    [InlineData("Tensors", null, "using Nn = LifelongPrefs.Nn.Linear;\nnamespace LifelongPrefs.Tensors;", "names LifelongPrefs.Nn.Linear")]
    [InlineData("Evaluation/Metrics", new[] { "LifelongPrefs.Models" }, "namespace LifelongPrefs.Evaluation;\nclass A { global::LifelongPrefs.Models.IRecommender? r; }", "names LifelongPrefs.Models.IRecommender")]
    [InlineData("Models", new[] { "LifelongPrefs.Evaluation.Protocols" }, "using LifelongPrefs.Evaluation.Protocols;", "names LifelongPrefs.Evaluation.Protocols")]
    [InlineData("Nn", new[] { "LifelongPrefs.Models" }, "global using LifelongPrefs.Tensors;", "global using")]
    public void The_checker_flags_an_upward_reference(string folder, string[]? forbidden, string text, string expected)
    {
        Assert.Contains(Violations(folder, forbidden, text), v => v.Contains(expected, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Data", null, "using System.Text;\nnamespace LifelongPrefs.Data;\nclass A { Interaction e; }")]
    [InlineData("Models", new[] { "LifelongPrefs.Evaluation.Protocols" }, "using LifelongPrefs.Evaluation;\nusing LifelongPrefs.Data;")]
    [InlineData("Nn", new[] { "LifelongPrefs.Models" }, "using LifelongPrefs.Nn.Losses;\nusing LifelongPrefs.Tensors;")]
    public void The_checker_accepts_downward_references(string folder, string[]? forbidden, string text)
    {
        Assert.Empty(Violations(folder, forbidden, text));
    }
}
