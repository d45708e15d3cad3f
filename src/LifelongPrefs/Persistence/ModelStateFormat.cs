using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace LifelongPrefs.Persistence;

/// <summary>The element layout of one section (see README.md beside this file for the byte layout).</summary>
internal enum SectionKind : byte
{
    /// <summary>IEEE single-precision values; every one must be finite.</summary>
    Float32 = 1,

    /// <summary>IEEE double-precision values; every one must be finite.</summary>
    Float64 = 2,

    /// <summary>32-bit signed integers.</summary>
    Int32 = 3,

    /// <summary>64-bit signed integers (ticks, step counts, keys).</summary>
    Int64 = 4,

    /// <summary>A sparse row structure: <c>rows + 1</c> int32 offsets, then one int32 column per stored entry.</summary>
    Csr = 5,

    /// <summary><see cref="Csr"/> followed by one finite float32 value per stored entry.</summary>
    CsrFloat32 = 6,

    /// <summary>UTF-8 text (the canonical options); the element count is the byte count.</summary>
    Utf8 = 7,
}

/// <summary>
/// The constants and byte-level helpers of the state container: layout offsets, size limits, and little-endian
/// conversion of element spans.
/// </summary>
/// <remarks>
/// Everything on disk is little-endian. On a little-endian machine spans are written and read as their own bytes
/// (<see cref="MemoryMarshal.AsBytes{T}(Span{T})"/>), which is what makes save and load run at memory speed; on a
/// big-endian machine the same bytes are produced by swapping each element in a scratch chunk.
/// </remarks>
internal static class ModelStateFormat
{
    /// <summary>"LLPF" read as a little-endian uint.</summary>
    internal const uint Magic = 0x46504C4C;

    /// <summary>The container version this build writes and reads. Version 1 was the unchecked-length container with a trailing CRC.</summary>
    internal const uint Version = 2;

    /// <summary>Bytes of the fixed prologue before its CRC: magic, version, type, reserved, state format, fingerprint, total length, section count, table length.</summary>
    internal const int PrologueLength = 40;

    /// <summary>Bytes of the prologue with its CRC.</summary>
    internal const int PrologueWithCrc = PrologueLength + 4;

    /// <summary>The longest section name, in bytes.</summary>
    internal const int MaxNameLength = 200;

    /// <summary>Bytes of a table entry besides its name: name length (2), kind (1), reserved (1), count (8), byte length (8), CRC (4).</summary>
    internal const int EntryFixedLength = 24;

    /// <summary>The most sections a state may declare (far above any model's few dozen).</summary>
    internal const int MaxSections = 65_536;

    /// <summary>The scratch chunk for async and big-endian copies, in bytes.</summary>
    internal const int ChunkBytes = 1 << 20;

    /// <summary>Gets the size in bytes of one element of a fixed-width kind (1 for text; CSR parts are int32/float32).</summary>
    /// <param name="kind">The kind.</param>
    /// <returns>The element size.</returns>
    internal static int ElementSize(SectionKind kind) => kind switch
    {
        SectionKind.Float64 or SectionKind.Int64 => 8,
        SectionKind.Utf8 => 1,
        _ => 4,
    };

    /// <summary>
    /// Copies <paramref name="source"/> (native elements of <paramref name="elementSize"/> bytes) into
    /// <paramref name="destination"/> as little-endian bytes.
    /// </summary>
    /// <param name="source">Native-endian element bytes.</param>
    /// <param name="elementSize">1, 4 or 8.</param>
    /// <param name="destination">At least as long as <paramref name="source"/>.</param>
    internal static void ToLittleEndian(ReadOnlySpan<byte> source, int elementSize, Span<byte> destination)
    {
        source.CopyTo(destination);
        if (!BitConverter.IsLittleEndian)
        {
            SwapInPlace(destination[..source.Length], elementSize);
        }
    }

    /// <summary>Turns little-endian element bytes into native order in place (nothing to do on little-endian machines).</summary>
    /// <param name="bytes">Whole elements of <paramref name="elementSize"/> bytes.</param>
    /// <param name="elementSize">1, 4 or 8.</param>
    internal static void FromLittleEndian(Span<byte> bytes, int elementSize)
    {
        if (!BitConverter.IsLittleEndian)
        {
            SwapInPlace(bytes, elementSize);
        }
    }

    private static void SwapInPlace(Span<byte> bytes, int elementSize)
    {
        if (elementSize == 4)
        {
            Span<uint> words = MemoryMarshal.Cast<byte, uint>(bytes);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
        else if (elementSize == 8)
        {
            Span<ulong> words = MemoryMarshal.Cast<byte, ulong>(bytes);
            BinaryPrimitives.ReverseEndianness(words, words);
        }
    }

    /// <summary>Whether <paramref name="name"/> is a valid section name: 1–200 ASCII letters, digits, '.', '_', '-' or ':'.</summary>
    /// <param name="name">The name.</param>
    /// <returns>True when valid.</returns>
    internal static bool IsValidName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty || name.Length > MaxNameLength)
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or ':'))
            {
                return false;
            }
        }

        return true;
    }
}
