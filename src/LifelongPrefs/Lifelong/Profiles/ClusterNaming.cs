namespace LifelongPrefs.Lifelong;

/// <summary>
/// Names clusters of items by the words of their members' descriptions that are frequent in the cluster but not
/// everywhere (for example "heart hanging holder" for a cluster of "WHITE HANGING HEART T-LIGHT HOLDER"s).
/// </summary>
/// <remarks>
/// <para>Tokens: maximal runs of letters, upper-cased (invariant culture); tokens of one letter, tokens next to a
/// digit ("12", "3D" split as "D" and dropped) and a short list of function words (OF, THE, AND, SET, …) are
/// dropped. Colour words are <em>not</em> dropped by a list: where a colour is spread over the catalogue its weight
/// below is near zero anyway, and where it does set a cluster apart ("PINK" for a cluster of pink items) it is an
/// honest name.</para>
/// <para>Weight of word w in cluster j: with <c>f_jw</c> the share of j's described members whose description holds
/// w and <c>f_w</c> the same share over all described items, <c>score = f_jw · ln(f_jw / f_w)</c> — the word's term of
/// the Kullback–Leibler divergence between the cluster's and the catalogue's word rates, a tf-idf over clusters
/// that rewards words that are common in the cluster (the f_jw factor) and rarer elsewhere (the log ratio; a word
/// at the catalogue's rate scores 0). The name is the top three positive-scoring words (ties by the word, ordinal),
/// lower-case, space-separated; a cluster without any gets "cluster {j}", and a name that repeats an earlier one gets
/// " ({j})" appended so every name is unique.</para>
/// </remarks>
internal static class ClusterNaming
{
    /// <summary>How many words a name has at most.</summary>
    internal const int WordsPerName = 3;

    private static readonly HashSet<string> StopWords = new(StringComparer.Ordinal)
    {
        "A", "AN", "THE", "OF", "AND", "OR", "IN", "ON", "WITH", "FOR", "TO", "AT", "BY", "FROM", "SET", "PACK", "PCS", "ASSORTED",
    };

    /// <summary>Splits a description into its informative upper-case words, each once.</summary>
    /// <param name="description">The text (null or empty gives no words).</param>
    /// <param name="words">Receives the distinct words (cleared first).</param>
    internal static void Tokenise(string? description, HashSet<string> words)
    {
        words.Clear();
        if (string.IsNullOrEmpty(description))
        {
            return;
        }

        int i = 0;
        while (i < description.Length)
        {
            if (!char.IsLetter(description[i]))
            {
                i++;
                continue;
            }

            int start = i;
            while (i < description.Length && char.IsLetter(description[i]))
            {
                i++;
            }

            // A run that touches a digit is a size or model code ("3D", "12PC"), not a word.
            bool nextToDigit = (start > 0 && char.IsDigit(description[start - 1])) || (i < description.Length && char.IsDigit(description[i]));
            if (i - start < 2 || nextToDigit)
            {
                continue;
            }

            string word = description[start..i].ToUpperInvariant();
            if (!StopWords.Contains(word))
            {
                words.Add(word);
            }
        }
    }

    /// <summary>Names each of <paramref name="clusterCount"/> clusters from its members' descriptions.</summary>
    /// <param name="assignments">The cluster of every item (a negative value: the item belongs to no cluster).</param>
    /// <param name="clusterCount">The number of clusters.</param>
    /// <param name="descriptions">One description per item (null entries and a null list are allowed: no words).</param>
    /// <returns>One unique name per cluster.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clusterCount"/> is below 1, or an assignment is at or above it.</exception>
    /// <exception cref="ArgumentException"><paramref name="descriptions"/> is not null and its count differs from the item count.</exception>
    internal static string[] Name(ReadOnlySpan<int> assignments, int clusterCount, IReadOnlyList<string?>? descriptions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(clusterCount, 1);
        if (descriptions is not null && descriptions.Count != assignments.Length)
        {
            throw new ArgumentException($"'{nameof(descriptions)}' must hold one entry per item ({assignments.Length}) but holds {descriptions.Count}.", nameof(descriptions));
        }

        var perCluster = new Dictionary<string, int>[clusterCount];
        var described = new int[clusterCount];
        var everywhere = new Dictionary<string, int>(StringComparer.Ordinal);
        int describedItems = 0;
        for (int c = 0; c < clusterCount; c++)
        {
            perCluster[c] = new Dictionary<string, int>(StringComparer.Ordinal);
        }

        var words = new HashSet<string>(StringComparer.Ordinal);
        for (int item = 0; item < assignments.Length; item++)
        {
            int c = assignments[item];
            if (c >= clusterCount)
            {
                throw new ArgumentOutOfRangeException(nameof(assignments), c, $"Item {item}'s cluster {c} is not below the cluster count {clusterCount}.");
            }

            Tokenise(descriptions?[item], words);
            if (c < 0 || words.Count == 0)
            {
                continue;
            }

            described[c]++;
            describedItems++;
            foreach (string w in words)
            {
                perCluster[c][w] = perCluster[c].GetValueOrDefault(w) + 1;
                everywhere[w] = everywhere.GetValueOrDefault(w) + 1;
            }
        }

        var names = new string[clusterCount];
        var taken = new HashSet<string>(StringComparer.Ordinal);
        var scored = new List<(double Score, string Word)>();
        for (int c = 0; c < clusterCount; c++)
        {
            scored.Clear();
            foreach ((string w, int n) in perCluster[c])
            {
                double inCluster = (double)n / described[c];
                double overall = (double)everywhere[w] / describedItems;
                double score = inCluster * Math.Log(inCluster / overall);
                if (score > 0)
                {
                    scored.Add((score, w));
                }
            }

            scored.Sort((a, b) => a.Score != b.Score ? b.Score.CompareTo(a.Score) : string.CompareOrdinal(a.Word, b.Word));
            string name = scored.Count == 0
                ? $"cluster {c}"
                : string.Join(' ', scored.Take(WordsPerName).Select(s => s.Word.ToLowerInvariant()));
            if (!taken.Add(name))
            {
                name = $"{name} ({c})";
                taken.Add(name);
            }

            names[c] = name;
        }

        return names;
    }
}
