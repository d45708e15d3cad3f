using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Data;

namespace LifelongPrefs.Tests.Data;

/// <summary>
/// The id map against a list oracle (an id's index is its position among the distinct ids in order of first
/// appearance), and the lookup that must never grow the map.
/// </summary>
public class IdMapTests
{
    [Property(MaxTest = 100)]
    public Property Indices_follow_first_appearance_and_lookups_never_grow_the_map()
    {
        // Ids from a small alphabet so repeats are common; the probes come from a disjoint one so they are all unknown.
        Gen<string[]> ids = Gen.Elements("a", "b", "c", "A", "ab", "b ", "d").ArrayOf();
        Gen<string[]> probes = Gen.Elements("x", "y", "B", "a ").ArrayOf();
        return Prop.ForAll(ids.ToArbitrary(), probes.ToArbitrary(), (added, unknown) =>
        {
            var map = new IdMap();
            var oracle = new List<string>();
            foreach (string id in added)
            {
                int index = map.GetOrAdd(id);
                if (!oracle.Contains(id))
                {
                    oracle.Add(id);
                }

                Assert.Equal(oracle.IndexOf(id), index);
            }

            foreach (string id in added)
            {
                Assert.True(map.TryGetIndex(id, out int found));
                Assert.Equal(oracle.IndexOf(id), found);
                Assert.Equal(id, map.GetId(found));
            }

            foreach (string id in unknown)
            {
                Assert.False(map.TryGetIndex(id, out int missing));
                Assert.Equal(-1, missing);
                Assert.Equal(oracle.Count, map.Count);
            }

            // The failed lookups reserved nothing: an unknown id added now gets the next index after the known ones.
            if (unknown.Length > 0)
            {
                Assert.Equal(oracle.Count, map.GetOrAdd(unknown[0]));
            }

            Assert.Equal(oracle.Count + (unknown.Length > 0 ? 1 : 0), map.Count);
        });
    }

    [Fact]
    public void Lookup_of_a_missing_id_leaves_the_map_unchanged()
    {
        var map = new IdMap();
        map.GetOrAdd("17850");
        map.GetOrAdd("13047");

        Assert.False(map.TryGetIndex("99999", out int index));
        Assert.Equal(-1, index);
        Assert.False(map.TryGetIndex("", out _));
        Assert.False(map.TryGetIndex("17850 ", out _));
        Assert.Equal(2, map.Count);
        Assert.Equal(["17850", "13047"], map.Ids);
    }

    [Fact]
    public void Lookup_of_a_null_id_throws_and_changes_nothing()
    {
        var map = new IdMap();
        map.GetOrAdd("a");

        var ex = Assert.Throws<ArgumentNullException>(() => map.TryGetIndex(null!, out _));
        Assert.Equal("id", ex.ParamName);
        Assert.Equal(1, map.Count);
        Assert.True(map.TryGetIndex("a", out int index));
        Assert.Equal(0, index);
    }
}
