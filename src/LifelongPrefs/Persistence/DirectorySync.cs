namespace LifelongPrefs.Persistence;

/// <summary>Makes a directory's entries (a created or renamed file) durable, where the platform allows it.</summary>
internal static class DirectorySync
{
    /// <summary>
    /// Flushes the directory's metadata to disk. On Unix a directory can be opened and fsynced; Windows cannot open a
    /// directory as a file (NTFS journals the rename itself), so there it does nothing.
    /// </summary>
    internal static void Flush(string directory)
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        try
        {
            using var handle = File.OpenHandle(directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception ex) when (ex is UnauthorizedAccessException or IOException)
        {
            // Some file systems refuse to open or flush a directory; the rename is then as durable as the platform makes it.
        }
    }
}
