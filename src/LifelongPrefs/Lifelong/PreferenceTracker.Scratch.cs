namespace LifelongPrefs.Lifelong;

/// <summary>The reusable buffers a read rents from the tracker's pool.</summary>
public sealed partial class PreferenceTracker
{
    /// <summary>Reusable per-call buffers of a read.</summary>
    private sealed class Scratch
    {
        internal float[] Scores = [];
        internal int[] Excluded = [];
        internal int[] Top = [];
        internal float[] TopScores = [];
        internal float[] Contributions = [];
        internal Interaction[] History = [];
        internal (int Item, float Score)[] Kept = [];

        /// <summary>The history without events of items the version does not know (seen after it was published).</summary>
        internal ReadOnlySpan<Interaction> Known(ReadOnlySpan<Interaction> history, int items)
        {
            int first = 0;
            while (first < history.Length && history[first].Item < items)
            {
                first++;
            }

            if (first == history.Length)
            {
                return history;
            }

            if (History.Length < history.Length)
            {
                History = new Interaction[Math.Max(history.Length, 2 * History.Length)];
            }

            int n = 0;
            foreach (ref readonly Interaction e in history)
            {
                if (e.Item < items)
                {
                    History[n++] = e;
                }
            }

            return History.AsSpan(0, n);
        }

        internal void Ensure(int items, int exclusions, int k)
        {
            if (Scores.Length < items)
            {
                Scores = new float[Math.Max(items, 2 * Scores.Length)];
            }

            if (Excluded.Length < exclusions)
            {
                Excluded = new int[Math.Max(exclusions, 2 * Excluded.Length)];
            }

            if (Top.Length < k)
            {
                Top = new int[k];
                TopScores = new float[k];
            }
        }
    }
}
