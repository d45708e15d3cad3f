using LifelongPrefs.Data;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>The state container's stream behaviour, async paths, empty models and its rejections with their messages.</summary>
public class StateFormatTests
{
    [Theory]
    [MemberData(nameof(StateModels.All), MemberType = typeof(StateModels))]
    public void Two_states_written_back_to_back_load_in_order_from_seekable_and_non_seekable_streams(string name)
    {
        ISavableRecommender fitted = StateModels.Fitted(name), empty = StateModels.Create(name);
        empty.Fit([], 0, 0);
        using var stream = new MemoryStream();
        fitted.Save(stream);
        empty.Save(stream);
        stream.WriteByte(0x5A);   // whatever follows the second state is not read
        byte[] bytes = stream.ToArray();

        foreach (Stream source in new Stream[] { new MemoryStream(bytes), new NonSeekableStream(bytes) })
        {
            ISavableRecommender first = StateModels.Create(name), second = StateModels.Create(name);
            first.Load(source);
            second.Load(source);
            Assert.Equal(StateModels.AllScores(fitted), StateModels.AllScores(first));
            Assert.Equal(StateModels.Saved(fitted), StateModels.Saved(first));
            Assert.Equal(StateModels.Saved(empty), StateModels.Saved(second));
            Assert.Equal(0x5A, source.ReadByte());
        }
    }

    [Theory]
    [MemberData(nameof(StateModels.All), MemberType = typeof(StateModels))]
    public async Task Async_save_writes_the_same_bytes_and_async_load_restores_the_model(string name)
    {
        ISavableRecommender fitted = StateModels.Fitted(name);
        using var stream = new MemoryStream();
        await fitted.SaveAsync(stream, CancellationToken.None);
        Assert.Equal(StateModels.Saved(fitted), stream.ToArray());

        ISavableRecommender loaded = StateModels.Create(name);
        stream.Position = 0;
        await loaded.LoadAsync(stream, CancellationToken.None);
        Assert.Equal(stream.Length, stream.Position);
        Assert.Equal(StateModels.AllScores(fitted), StateModels.AllScores(loaded));

        byte[] truncated = stream.ToArray()[..^3];
        await Assert.ThrowsAsync<ModelStateException>(() => StateModels.Create(name).LoadAsync(new MemoryStream(truncated), CancellationToken.None));
    }

    [Theory]
    [MemberData(nameof(StateModels.All), MemberType = typeof(StateModels))]
    public void An_empty_model_round_trips(string name)
    {
        ISavableRecommender empty = StateModels.Create(name);
        empty.Fit([], 0, 0);
        byte[] bytes = StateModels.Saved(empty);
        ISavableRecommender loaded = StateModels.Create(name);
        loaded.Load(new MemoryStream(bytes));
        Assert.Equal(0, loaded.ItemCount);
        Assert.Equal(bytes, StateModels.Saved(loaded));
    }

    [Fact]
    public void A_version_1_container_is_rejected_naming_both_versions()
    {
        // Version 1 began with the magic and an int32 version of 1, then the model's name and the sections.
        var old = new MemoryStream();
        using (var writer = new BinaryWriter(old, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            writer.Write(0x46504C4Cu);
            writer.Write(1);
            writer.Write("Popularity");
            writer.Write(new byte[64]);
        }

        var error = Assert.Throws<ModelStateException>(() => new Popularity().Load(new MemoryStream(old.ToArray())));
        Assert.Contains("version 1", error.Message, StringComparison.Ordinal);
        Assert.Contains("version 2", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_flipped_header_bit_is_reported_as_corruption_not_as_a_field_value()
    {
        byte[] bytes = StateModels.Saved(StateModels.Fitted("popularity"));
        foreach (int position in new[] { 5, 8, 12, 30 })
        {
            byte[] flipped = (byte[])bytes.Clone();
            flipped[position] ^= 0x20;
            var error = Assert.Throws<ModelStateException>(() => new Popularity().Load(new MemoryStream(flipped)));
            Assert.Contains("checksum", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Another_model_type_is_named_by_its_fixed_type_id()
    {
        byte[] bytes = StateModels.Saved(StateModels.Fitted("popularity-decayed"));
        var error = Assert.Throws<ModelStateException>(() => new ItemKnn().Load(new MemoryStream(bytes)));
        Assert.Contains("model type Popularity (type id 1)", error.Message, StringComparison.Ordinal);
        Assert.Contains("type id 3", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Other_options_are_rejected_naming_the_differing_option()
    {
        var wide = new BprMf(new BprMfOptions { Dimensions = 8, MaxEpochs = 1, ValidationUsers = 0 });
        wide.Fit(StateModels.Log(), StateModels.Users, StateModels.Items);
        var narrow = new BprMf(new BprMfOptions { Dimensions = 4, MaxEpochs = 1, ValidationUsers = 0 });
        byte[] before = StateModels.Saved(narrow);
        var error = Assert.Throws<ModelStateException>(() => narrow.Load(new MemoryStream(StateModels.Saved(wide))));
        Assert.Contains("Dimensions: saved 8, this model 4", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Epochs", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, StateModels.Saved(narrow));

        error = Assert.Throws<ModelStateException>(() => new Popularity(halfLifeDays: 2).Load(new MemoryStream(StateModels.Saved(new Popularity()))));
        Assert.Contains("HalfLifeTicks: saved Infinity", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_RepeatExplore_state_loads_under_other_window_and_sample_sizes_but_not_under_another_width()
    {
        // The checked-in state was saved with 3 negatives, 2 own candidates, 2 context and 3 co-occurrence items.
        byte[] fixture = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Persistence", "Fixtures", "repeat-explore.llpf"));
        var pinned = (RepeatExplore)StateModels.Create("repeat-explore");
        pinned.Load(new MemoryStream(fixture));

        // Other sample sizes change only later steps: the loaded model scores exactly like the pinned one.
        var samples = new RepeatExplore(new RepeatExploreOptions { Dimensions = 4, Negatives = 7, OwnCandidates = 5, ContextItems = 2, CooccurrenceItems = 3, Seed = 11 });
        samples.Load(new MemoryStream(fixture));
        Assert.Equal(StateModels.AllScores(pinned), StateModels.AllScores(samples));

        // Other windows load too; every section but the options text is the saved one, and the options are the loading model's.
        var windows = new RepeatExplore(new RepeatExploreOptions { Dimensions = 4, Negatives = 3, OwnCandidates = 2, ContextItems = 9, CooccurrenceItems = 8, Seed = 11 });
        windows.Load(new MemoryStream(fixture));
        StateFile saved = StateFile.Parse(StateModels.Saved(pinned)), resaved = StateFile.Parse(StateModels.Saved(windows));
        Assert.Equal(saved.Sections.Select(e => e.Name), resaved.Sections.Select(e => e.Name));
        foreach ((StateFile.Entry a, StateFile.Entry b) in saved.Sections.Zip(resaved.Sections).Where(p => p.First.Name != "options"))
        {
            Assert.Equal(a.Data, b.Data);
        }

        Assert.Contains("ContextItems=9\n", System.Text.Encoding.UTF8.GetString(resaved.Sections.Single(e => e.Name == "options").Data), StringComparison.Ordinal);

        // A width or a seed is no window: rejected, naming it, even when a tolerated option differs as well.
        var wide = new RepeatExplore(new RepeatExploreOptions { Dimensions = 8, Negatives = 7, OwnCandidates = 2, ContextItems = 2, CooccurrenceItems = 3, Seed = 11 });
        byte[] before = StateModels.Saved(wide);
        var error = Assert.Throws<ModelStateException>(() => wide.Load(new MemoryStream(fixture)));
        Assert.Contains("Dimensions: saved 4, this model 8", error.Message, StringComparison.Ordinal);
        Assert.Equal(before, StateModels.Saved(wide));
        var reseeded = new RepeatExplore(new RepeatExploreOptions { Dimensions = 4, Negatives = 3, OwnCandidates = 2, ContextItems = 2, CooccurrenceItems = 3, Seed = 12 });
        Assert.Contains("Seed: saved 11, this model 12", Assert.Throws<ModelStateException>(() => reseeded.Load(new MemoryStream(fixture))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_agree_except_the_tolerated_names_only_when_everything_else_matches()
    {
        const string Saved = "A=1\nB=2\nC=3\n";
        Assert.True(OptionsFingerprint.AgreeExcept(Saved, "A=1\nB=9\nC=3\n", ["B"]));
        Assert.True(OptionsFingerprint.AgreeExcept(Saved, "A=1\nC=3\n", ["B"]));          // a tolerated option may be absent on one side
        Assert.False(OptionsFingerprint.AgreeExcept(Saved, "A=1\nB=9\nC=4\n", ["B"]));   // C differs
        Assert.False(OptionsFingerprint.AgreeExcept(Saved, "A=1\nB=2\n", ["B"]));          // C missing
        Assert.False(OptionsFingerprint.AgreeExcept(Saved, "A=1\nB=2\nC=3\nD=4\n", ["B"])); // D added
        Assert.Equal(["ContextItems", "CooccurrenceItems", "GateLearningRate", "LearningRate", "NegativeReuse", "Negatives", "OwnCandidates"], OptionsFingerprint.Tolerated<RepeatExploreOptions>().Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_small_state_claiming_ten_million_items_is_rejected_before_allocating_them()
    {
        StateFile file = StateFile.Parse(StateModels.Saved(StateModels.Fitted("sasrec")));
        StateFile.Entry table = file.Sections.Single(s => s.Name == "items.weight");
        table.Count = 10_000_001L * 4;
        table.DeclaredBytes = table.Count * 4;
        file.DeclaredTotal = 1L << 40;
        byte[] crafted = file.Build();
        Assert.True(crafted.Length < 100_000);

        foreach (Func<Stream> source in new Func<Stream>[] { () => new MemoryStream(crafted), () => new NonSeekableStream(crafted, 1 << 16) })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<ModelStateException>(() => StateModels.Create("sasrec").Load(source()));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L << 20, "the rejection allocated more than 16 MiB");
        }

        // The same claim with a consistent total: the seekable stream proves the bytes are missing before any
        // allocation, the non-seekable one fails after filling about as much as it really held.
        file.DeclaredTotal = null;
        byte[] consistent = file.Build();
        foreach (Func<Stream> source in new Func<Stream>[] { () => new MemoryStream(consistent), () => new NonSeekableStream(consistent, 1 << 16) })
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<ModelStateException>(() => StateModels.Create("sasrec").Load(source()));
            Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 16L << 20, "the rejection allocated more than 16 MiB");
        }
    }

    [Fact]
    public void The_options_text_is_the_same_for_a_record_and_a_class_with_init_properties()
    {
        var asRecord = new RecordOptions(3, 0.1f, Gru4RecLoss.SampledSoftmax);
        var asClass = new ClassOptions { Loss = Gru4RecLoss.SampledSoftmax, Rate = 0.1f, Size = 3 };
        string text = OptionsFingerprint.Canonical(asRecord);
        Assert.Equal("Loss=SampledSoftmax\nRate=0.1\nSize=3\n", text);
        Assert.Equal(text, OptionsFingerprint.Canonical(asClass));
        Assert.NotEqual(OptionsFingerprint.Of(text), OptionsFingerprint.Of(OptionsFingerprint.Canonical(asRecord with { Size = 4 })));
    }

    [Fact]
    public void The_validation_holdout_is_not_fingerprinted_so_states_saved_before_it_existed_still_load()
    {
        // Canonical texts list every option but the holdout, so both holdouts give one fingerprint.
        string lastBasket = OptionsFingerprint.Canonical(new Gru4RecOptions { Validation = ValidationHoldout.LastBasket });
        Assert.DoesNotContain("Validation=", lastBasket, StringComparison.Ordinal);
        Assert.Contains("ValidationUsers=1000", lastBasket, StringComparison.Ordinal);
        Assert.Equal(lastBasket, OptionsFingerprint.Canonical(new Gru4RecOptions()));

        // The checked-in GRU4Rec fixture was written before the option existed: a model with the new default loads it
        // and scores exactly like the one pinned to the old holdout.
        byte[] fixture = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Persistence", "Fixtures", "gru4rec.llpf"));
        var pinned = (Gru4Rec)StateModels.Create("gru4rec");
        var current = new Gru4Rec(new Gru4RecOptions
        {
            Dimensions = 4, HiddenSize = 4, MaxLength = 4, MaxEpochs = 2, UpdateEpochs = 1, BatchSize = 4, Patience = 1, ValidationUsers = 2, Seed = 11,
        });
        pinned.Load(new MemoryStream(fixture));
        current.Load(new MemoryStream(fixture));
        var a = new float[pinned.ItemCount];
        var b = new float[current.ItemCount];
        for (int u = 0; u < StateModels.Users; u++)
        {
            Interaction[] history = [.. StateModels.Log().Where(e => e.User == u)];
            pinned.Score(u, history, a);
            current.Score(u, history, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void The_negative_draw_is_left_out_of_the_options_text_at_the_value_older_states_were_learned_with()
    {
        // NegativeReuse = 1 is how every RepeatExplore state before the option was learned: it is left out there, so
        // such a model writes the older bytes (the repeat-explore fixture test); any other value is listed.
        string fresh = OptionsFingerprint.Canonical(new RepeatExploreOptions { NegativeReuse = 1 });
        string shared = OptionsFingerprint.Canonical(new RepeatExploreOptions { NegativeReuse = 4 });
        Assert.DoesNotContain("NegativeReuse=", fresh, StringComparison.Ordinal);
        Assert.Contains("NegativeReuse=4\n", shared, StringComparison.Ordinal);
        Assert.Equal(fresh, shared.Replace("NegativeReuse=4\n", "", StringComparison.Ordinal));
        Assert.True(OptionsFingerprint.AgreeExcept(fresh, shared, OptionsFingerprint.Tolerated<RepeatExploreOptions>()));
    }

    [Fact]
    public void An_omitted_value_of_another_type_than_its_option_is_refused_by_name()
    {
        // [OmittedWhen(1)] on a float would never match 1f: the option would be listed always, silently changing the text.
        var wrongType = Assert.Throws<InvalidOperationException>(() => OptionsFingerprint.Canonical(new MistypedOmission()));
        Assert.Contains("MistypedOmission.Rate", wrongType.Message, StringComparison.Ordinal);
        var nullForValue = Assert.Throws<InvalidOperationException>(() => OptionsFingerprint.Canonical(new NullOmissionOfAValue()));
        Assert.Contains("NullOmissionOfAValue.Size", nullForValue.Message, StringComparison.Ordinal);

        // The same value of the right type is left out, and any other listed.
        Assert.DoesNotContain("Rate=", OptionsFingerprint.Canonical(new TypedOmission { Rate = 1f }), StringComparison.Ordinal);
        Assert.Contains("Rate=2\n", OptionsFingerprint.Canonical(new TypedOmission { Rate = 2f }), StringComparison.Ordinal);
    }

    private sealed class MistypedOmission
    {
        [OmittedWhen(1)]
        public float Rate { get; init; } = 1f;
    }

    private sealed class NullOmissionOfAValue
    {
        [OmittedWhen(null)]
        public int Size { get; init; }
    }

    private sealed class TypedOmission
    {
        [OmittedWhen(1f)]
        public float Rate { get; init; }

        public int Size { get; init; } = 3;
    }

    private sealed record RecordOptions(int Size, float Rate, Gru4RecLoss Loss);

    private sealed class ClassOptions
    {
        public int Size { get; init; }

        public Gru4RecLoss Loss { get; init; }

        public float Rate { get; init; }
    }
}
