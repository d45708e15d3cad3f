using LifelongPrefs.Lifelong;

namespace LifelongPrefs.Tests.Lifelong.Profiles;

public class ItemCategoriesTests
{
    private static readonly string[] Colours = ["WHITE", "RED", "PINK", "BLUE"];

    /// <summary>
    /// Descriptions with planted words per planted cluster, plus words every cluster shares (a colour, "SET OF 6",
    /// "VINTAGE" in half of all items) and digits: the names must be the planted words.
    /// </summary>
    private static string[] Descriptions(int[] planted)
    {
        string[][] words = [["HANGING", "HEART", "HOLDER"], ["JUMBO", "BAG", "RETROSPOT"], ["CERAMIC", "TEAPOT", "MUG"], ["WOODEN", "CLOCK", "ALARM"], ["GARDEN", "KNEELING", "PAD"]];
        var random = new Random(9);
        var descriptions = new string[planted.Length];
        for (int i = 0; i < planted.Length; i++)
        {
            string[] own = words[planted[i]];
            string colour = Colours[random.Next(Colours.Length)];
            string shared = i % 2 == 0 ? "VINTAGE SET OF 6" : "12 PC";
            descriptions[i] = $"{colour} {own[0]} {own[1]} {shared} {own[2]} {random.Next(100)}";
        }

        return descriptions;
    }

    [Fact]
    public void Clusters_are_named_by_their_planted_words()
    {
        (float[] rows, int[] planted) = KMeansTests.PlantedRows(seed: 21);
        string[] descriptions = Descriptions(planted);
        ItemCategories categories = ItemCategories.FromEmbeddings(rows, planted.Length, 16, 5, descriptions);

        KMeansTests.SamePartition(planted, categories.Assignments);
        string[][] expected = [["hanging", "heart", "holder"], ["bag", "jumbo", "retrospot"], ["ceramic", "mug", "teapot"], ["alarm", "clock", "wooden"], ["garden", "kneeling", "pad"]];
        for (int item = 0; item < planted.Length; item++)
        {
            // Every planted word is in every member and in no other cluster: equal scores, so ordinal order.
            Assert.Equal(string.Join(' ', expected[planted[item]]), categories.Names[categories.CategoryOf(item)]);
        }

        Assert.Equal(-1, categories.Uncategorised);
    }

    [Fact]
    public void Tokenising_drops_digits_single_letters_and_function_words()
    {
        var words = new HashSet<string>();
        ClusterNaming.Tokenise("WHITE HANGING HEART T-LIGHT HOLDER, set of 6 3D 12PC", words);
        Assert.Equal(["HANGING", "HEART", "HOLDER", "LIGHT", "WHITE"], words.Order(StringComparer.Ordinal));

        ClusterNaming.Tokenise(null, words);
        Assert.Empty(words);
    }

    [Fact]
    public void Names_are_unique_and_clusters_without_words_are_numbered()
    {
        string[] names = ClusterNaming.Name([0, 0, 1, 1, 2, 3], 5, ["RED MUG", "RED MUG", "RED MUG", "RED MUG", "BLUE BAG", "12 34"]);

        // MUG and RED: share 1 in clusters 0 and 1 against 4/5 overall, so both score ln(5/4) there (ties: ordinal).
        Assert.Equal(["mug red", "mug red (1)", "bag blue", "cluster 3", "cluster 4"], names);
    }

    [Fact]
    public void Catalog_categories_keep_first_appearance_order_and_collect_the_rest()
    {
        ItemCategories categories = ItemCategories.FromCatalog(["mugs", null, "bags", "mugs", ""]);

        Assert.Equal(["mugs", "bags", ItemCategories.UncategorisedName], categories.Names);
        Assert.Equal([0, 2, 1, 0, 2], categories.Assignments.ToArray());
        Assert.Equal(2, categories.Uncategorised);
        Assert.Equal(-1, categories.CategoryOf(5));
    }

    [Fact]
    public void Uncatalogued_items_join_the_nearest_catalog_category_by_embedding()
    {
        // Items 0-1 are "mugs" along axis 0, items 2-3 "bags" along axis 1; item 4 points mostly along axis 1.
        float[] rows = [1, 0, 2, 0.1f, 0, 1, 0.1f, 3, 0.2f, 0.9f];
        ItemCategories categories = ItemCategories.FromCatalog(["mugs", "mugs", "bags", "bags", null], rows, 2);

        Assert.Equal(["mugs", "bags"], categories.Names);
        Assert.Equal(1, categories.CategoryOf(4));
        Assert.Equal(-1, categories.Uncategorised);
    }

    [Fact]
    public void Items_left_out_of_the_clustering_are_uncategorised()
    {
        (float[] rows, int[] planted) = KMeansTests.PlantedRows(seed: 5);
        bool[] clustered = [.. Enumerable.Range(0, planted.Length).Select(i => i % 10 != 0)];
        ItemCategories categories = ItemCategories.FromEmbeddings(rows, planted.Length, 16, 5, null, null, clustered);

        Assert.Equal(6, categories.Count);
        Assert.Equal(5, categories.Uncategorised);
        for (int item = 0; item < planted.Length; item++)
        {
            Assert.Equal(clustered[item], categories.CategoryOf(item) != 5);
        }
    }

    [Fact]
    public void Bad_input_throws_naming_the_argument()
    {
        (float[] rows, int[] planted) = KMeansTests.PlantedRows(seed: 5);
        Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => ItemCategories.FromEmbeddings(rows, planted.Length, 16, 0)).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentException>(() => ItemCategories.FromEmbeddings(rows, planted.Length, 15, 3)).ParamName);
        Assert.Equal("descriptions", Assert.Throws<ArgumentException>(() => ItemCategories.FromEmbeddings(rows, planted.Length, 16, 3, ["x"])).ParamName);
        Assert.Equal("clustered", Assert.Throws<ArgumentException>(() => ItemCategories.FromEmbeddings(rows, planted.Length, 16, 3, null, null, new bool[3])).ParamName);
        Assert.Equal("embeddings", Assert.Throws<ArgumentException>(() => ItemCategories.FromCatalog(["a", null], [1f, 2f, 3f], 2)).ParamName);
        Assert.Equal("assignments", Assert.Throws<ArgumentOutOfRangeException>(() => ItemCategories.FromAssignments([0, 2], ["a", "b"])).ParamName);
        Assert.Equal("names", Assert.Throws<ArgumentException>(() => ItemCategories.FromAssignments([], [])).ParamName);
    }
}
