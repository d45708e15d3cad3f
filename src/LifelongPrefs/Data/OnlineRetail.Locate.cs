using System.Globalization;
using System.Text;

namespace LifelongPrefs.Data;

public static partial class OnlineRetail
{
    /// <summary>The environment variable that names the Online Retail file (or a folder holding it) for <see cref="LocateSample()"/>.</summary>
    public const string SampleEnvironmentVariable = "LIFELONGPREFS_ONLINE_RETAIL";

    /// <summary>The file name of the bundled copy, <c>online_retail.csv.gz</c>, that <see cref="LocateSample()"/> looks for.</summary>
    public const string SampleFileName = "online_retail.csv.gz";

    /// <summary>Where to get the data, for the message of a failed search.</summary>
    private const string HowToGetIt =
        "The file is the UCI \"Online Retail\" data set (Chen, 2015; CC BY 4.0; https://doi.org/10.24432/C5BW33), as a gzip of "
        + "its eight-column CSV: copy " + SamplePath + " from the LifelongPrefs repository (its README beside it gives the "
        + "attribution and checksums) next to your app or into its working directory, or set " + SampleEnvironmentVariable
        + " to the file's path.";

    /// <summary>
    /// Finds the Online Retail file for an application, whether it runs from a clone of the repository or from a package
    /// consumer's folder, and returns its full path for <see cref="Load(string, OnlineRetailOptions?)"/>.
    /// </summary>
    /// <remarks>
    /// <para>Looks, in this order:</para>
    /// <list type="number">
    /// <item><description>The environment variable <see cref="SampleEnvironmentVariable"/>: a file path, or a folder that
    /// holds <see cref="SampleFileName"/>. When it is set (not empty) it is the only place looked at, so a wrong value fails
    /// instead of quietly reading another copy.</description></item>
    /// <item><description><see cref="SampleFileName"/> in the application's base directory (<see cref="AppContext.BaseDirectory"/>),
    /// where a build copies content files.</description></item>
    /// <item><description>The current directory and each of its parents up to the root: <see cref="SampleFileName"/> in the
    /// folder itself, then <see cref="SamplePath"/> beneath it (the repository's copy, found from anywhere inside a
    /// clone).</description></item>
    /// </list>
    /// <para>Reads only file-system metadata; may be called from any number of threads.</para>
    /// </remarks>
    /// <returns>The full path of an existing file.</returns>
    /// <exception cref="FileNotFoundException">No place holds the file. The message lists every path tried and how to get
    /// the data (UCI Online Retail, CC BY 4.0); <see cref="FileNotFoundException.FileName"/> is <see cref="SampleFileName"/>,
    /// or the environment variable's value when that was set.</exception>
    public static string LocateSample() => LocateSample(
        Environment.GetEnvironmentVariable(SampleEnvironmentVariable), AppContext.BaseDirectory, Directory.GetCurrentDirectory());

    /// <summary>The search of <see cref="LocateSample()"/> from explicit starting points (tests call it without touching the process).</summary>
    /// <exception cref="FileNotFoundException">No place holds the file.</exception>
    internal static string LocateSample(string? environmentValue, string baseDirectory, string currentDirectory)
    {
        var tried = new List<string>();
        if (!string.IsNullOrEmpty(environmentValue))
        {
            string named = Path.GetFullPath(environmentValue);
            string inFolder = Path.Combine(named, SampleFileName);
            if (File.Exists(named))
            {
                return named;
            }

            if (Directory.Exists(named) && File.Exists(inFolder))
            {
                return inFolder;
            }

            tried.Add(named);
            tried.Add(inFolder);
            throw NotFound($"{SampleEnvironmentVariable} is set to '{environmentValue}', but neither a file nor a folder holding {SampleFileName} is there", tried, environmentValue);
        }

        string beside = Path.Combine(Path.GetFullPath(baseDirectory), SampleFileName);
        if (TryCandidate(beside, tried))
        {
            return beside;
        }

        for (DirectoryInfo? dir = new(Path.GetFullPath(currentDirectory)); dir is not null; dir = dir.Parent)
        {
            string here = Path.Combine(dir.FullName, SampleFileName);
            string repository = Path.GetFullPath(Path.Combine(dir.FullName, SamplePath));
            if (TryCandidate(here, tried))
            {
                return here;
            }

            if (TryCandidate(repository, tried))
            {
                return repository;
            }
        }

        throw NotFound($"The Online Retail data file {SampleFileName} was not found ({SampleEnvironmentVariable} is not set)", tried, SampleFileName);
    }

    private static bool TryCandidate(string path, List<string> tried)
    {
        if (File.Exists(path))
        {
            return true;
        }

        tried.Add(path);
        return false;
    }

    private static FileNotFoundException NotFound(string what, List<string> tried, string fileName)
    {
        var message = new StringBuilder(what).Append(". Looked in:");
        foreach (string path in tried)
        {
            message.Append(CultureInfo.InvariantCulture, $"{Environment.NewLine}  {path}");
        }

        message.Append(Environment.NewLine).Append(HowToGetIt);
        return new FileNotFoundException(message.ToString(), fileName);
    }
}
