namespace Portcullis.Linux.Nftables;

public sealed partial class NftSetElementWriter
{
    // The batch's element messages in order: where each starts and ends, its sequence number and what it writes to.
    private struct Messages(int capacity)
    {
        private Message[] _items = new Message[capacity];

        public int Count { get; set; }

        public readonly Message this[int index] => _items[index];

        public void Add(int start, uint sequence, NftElementVerb verb, NftFamily family, string table, string set)
        {
            if (Count == _items.Length)
                Array.Resize(ref _items, _items.Length * 2);
            _items[Count++] = new Message(start, sequence, verb, family, table, set);
        }

        public readonly void End(int end) => _items[Count - 1].End = end;

        public readonly int IndexOf(uint sequence)
        {
            for (var i = 0; i < Count; i++)
            {
                if (_items[i].Sequence == sequence)
                    return i;
            }
            return -1;
        }
    }

    private struct Message(int start, uint sequence, NftElementVerb verb, NftFamily family, string table, string set)
    {
        public readonly int Start = start;
        public readonly uint Sequence = sequence;
        public readonly NftElementVerb Verb = verb;
        public readonly NftFamily Family = family;
        public readonly string Table = table;
        public readonly string Set = set;
        public int End;
    }

    // Every element of the batch, in buffer order: its bytes [Start, End) and the caller's tag.
    private struct Elements(int capacity)
    {
        private (int Start, int End, int Tag)[] _items = new (int, int, int)[capacity];

        public int Count { get; set; }

        public void Add(int start, int end, int tag)
        {
            if (Count == _items.Length)
                Array.Resize(ref _items, _items.Length * 2);
            _items[Count++] = (start, end, tag);
        }

        public readonly int Tag(int index) => _items[index].Tag;

        /// <summary>The element whose bytes hold <paramref name="offset"/> (an offset in the batch), or -1.</summary>
        public readonly int Containing(int offset)
        {
            int low = 0, high = Count - 1;
            while (low <= high)
            {
                var middle = (low + high) >>> 1;
                if (_items[middle].End <= offset)
                    low = middle + 1;
                else if (_items[middle].Start > offset)
                    high = middle - 1;
                else
                    return middle;
            }
            return -1;
        }
    }
}
