using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using LifelongPrefs.Models;
using LifelongPrefs.Persistence;

namespace LifelongPrefs.Tests.Persistence;

/// <summary>
/// The adversarial run of issue 7 kept as a seeded property over every model: a valid state, corrupted in one of
/// the ways that broke the old container (bit flips, truncations, crafted headers with huge lengths, duplicate and
/// unknown sections, bytes inside the declared length but outside every section, NaN or infinity in a float
/// section, a missing or retyped section) must be rejected with <see cref="ModelStateException"/> and nothing else,
/// and must leave the model it was loaded into byte-identical (its re-save is compared).
/// </summary>
public class StateFuzzProperties
{
    private enum Mutation
    {
        BitFlip,
        Truncate,
        HugeSection,
        HugeTotal,
        DuplicateSection,
        UnknownSection,
        UnknownKind,
        TrailingInside,
        NonFinite,
        RemoveSection,
        Retype,
    }

    private sealed record Case(int Model, Mutation Mutation, int A, int B, bool Seekable)
    {
        public override string ToString() => $"{StateModels.Names[Model]}: {Mutation} ({A}, {B}), seekable {Seekable}";
    }

    private sealed record Subject(byte[] Source, ISavableRecommender Target, byte[] TargetBytes);

    private static readonly Lazy<Subject[]> Subjects = new(() => [.. StateModels.Names.Select(name =>
    {
        // The target holds a different state (a fit on part of the log), so a half-applied load would show.
        ISavableRecommender target = StateModels.Create(name);
        target.Fit(StateModels.Log().Take(20).ToList(), StateModels.Users, StateModels.Items);
        return new Subject(StateModels.Saved(StateModels.Fitted(name)), target, StateModels.Saved(target));
    })]);

    private static Arbitrary<Case> Cases() => Arb.From(
        from model in Gen.Choose(0, StateModels.Names.Length - 1)
        from mutation in Gen.Elements(Enum.GetValues<Mutation>())
        from a in Gen.Choose(0, int.MaxValue)
        from b in Gen.Choose(0, int.MaxValue)
        from seekable in Gen.Elements(true, false)
        select new Case(model, mutation, a, b, seekable));

    [Property(MaxTest = 400, Replay = "7204981773145,918273645517")]
    public Property Every_corruption_is_rejected_cleanly_and_changes_nothing() =>
        Prop.ForAll(Cases(), c =>
        {
            Subject subject = Subjects.Value[c.Model];
            byte[] corrupt = Corrupt(subject.Source, c);
            Stream stream = c.Seekable ? new MemoryStream(corrupt) : new NonSeekableStream(corrupt, 4096);
            Exception? error = Record.Exception(() => subject.Target.Load(stream));
            return error is ModelStateException && StateModels.Saved(subject.Target).AsSpan().SequenceEqual(subject.TargetBytes);
        });

    [Fact]
    public void The_uncorrupted_states_load_so_the_property_tests_the_corruption()
    {
        foreach (Subject subject in Subjects.Value)
        {
            ISavableRecommender fresh = StateModels.Create(StateModels.Names[Array.IndexOf(Subjects.Value, subject)]);
            fresh.Load(new MemoryStream(StateFile.Parse(subject.Source).Build()));
            Assert.Equal(subject.Source, StateModels.Saved(fresh));
        }
    }

    private static byte[] Corrupt(byte[] source, Case c)
    {
        StateFile file = StateFile.Parse(source);
        List<StateFile.Entry> sections = file.Sections;
        StateFile.Entry pick = sections[c.A % sections.Count];
        switch (c.Mutation)
        {
            case Mutation.BitFlip:
                byte[] flipped = (byte[])source.Clone();
                flipped[c.A % flipped.Length] ^= (byte)(1 << (c.B % 8));
                return flipped;
            case Mutation.Truncate:
                return source[..(c.A % source.Length)];
            case Mutation.HugeSection:
                // 10 million elements, the length consistent with the kind and the total with the table.
                pick.Count = 10_000_000 + c.B % 1000;
                pick.DeclaredBytes = pick.Kind is 5 or 6 ? 4 * (pick.Count + 1) : pick.Count * (pick.Kind is 2 or 4 ? 8 : pick.Kind == 7 ? 1 : 4);
                break;
            case Mutation.HugeTotal:
                file.DeclaredTotal = source.Length + 1 + (long)c.B * 1024;
                break;
            case Mutation.DuplicateSection:
                sections.Insert(c.B % (sections.Count + 1), new StateFile.Entry(pick.Name, pick.Kind, pick.Count, pick.Data));
                break;
            case Mutation.UnknownSection:
                sections.Insert(c.B % (sections.Count + 1), new StateFile.Entry($"unknown.section{c.B % 7}", 3, 1, [1, 0, 0, 0]));
                break;
            case Mutation.UnknownKind:
                pick.Kind = (byte)(8 + c.B % 248);
                break;
            case Mutation.TrailingInside:
                file.Extra = [.. Enumerable.Range(0, 1 + c.B % 16).Select(i => (byte)(i * 37 + c.A))];
                break;
            case Mutation.NonFinite:
                StateFile.Entry[] floats = [.. sections.Where(s => s.Kind is 1 or 2 && s.Data.Length > 0)];
                if (floats.Length == 0)
                {
                    goto case Mutation.TrailingInside;
                }

                StateFile.Entry target = floats[c.A % floats.Length];
                double bad = (c.B % 3) switch { 0 => double.NaN, 1 => double.PositiveInfinity, _ => double.NegativeInfinity };
                byte[] data = (byte[])target.Data.Clone();
                if (target.Kind == 1)
                {
                    BitConverter.TryWriteBytes(data.AsSpan(4 * (c.B % (data.Length / 4))), (float)bad);
                }
                else
                {
                    BitConverter.TryWriteBytes(data.AsSpan(8 * (c.B % (data.Length / 8))), bad);
                }

                target.Data = data;
                break;
            case Mutation.RemoveSection:
                sections.Remove(pick);
                break;
            case Mutation.Retype:
                // Same element size, other meaning: float32 ↔ int32, float64 ↔ int64; text becomes float32 and CSR becomes text.
                (pick.Kind, pick.Count) = pick.Kind switch
                {
                    1 => ((byte)3, pick.Count),
                    3 => ((byte)1, pick.Count),
                    2 => ((byte)4, pick.Count),
                    4 => ((byte)2, pick.Count),
                    7 => ((byte)1, pick.Data.Length / 4),
                    _ => ((byte)7, pick.Data.Length),
                };
                break;
        }

        return file.Build();
    }
}
