using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>Finds the repository's data copy; a missing file fails the test (never skips it).</summary>
internal static class SampleFiles
{
    /// <summary>The absolute path of samples/data/uci-online-retail/online_retail.csv.gz.</summary>
    internal static string OnlineRetail
    {
        get
        {
            for (DirectoryInfo? dir = new(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            {
                string candidate = Path.Combine(dir.FullName, LifelongPrefs.Data.OnlineRetail.SamplePath);
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }

            Assert.Fail($"The Online Retail data copy '{LifelongPrefs.Data.OnlineRetail.SamplePath}' was not found above '{AppContext.BaseDirectory}'. "
                + "It ships with the repository (copy it from ../shared/data/uci-online-retail/).");
            return string.Empty;
        }
    }

    /// <summary>The default-cleaned data, loaded once per test run (the file takes about a second to load).</summary>
    internal static OnlineRetailData Default => LazyDefault.Value;

    private static readonly Lazy<OnlineRetailData> LazyDefault = new(() => LifelongPrefs.Data.OnlineRetail.Load(OnlineRetail));
}
