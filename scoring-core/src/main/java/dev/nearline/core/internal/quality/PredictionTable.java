package dev.nearline.core.internal.quality;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The predictions waiting for their labels: a ring of {@code capacity} slots in arrival order, held in
 * primitive arrays, and an open-addressing index from id to slot. Prediction {@code n} (numbered from 1) lives
 * in slot {@code n % capacity} until prediction {@code n + capacity} takes the slot (an eviction, counted unless
 * it was labelled), so memory is fixed at construction.
 *
 * <p><b>Putting</b> (the scoring thread) writes the ring slot only: one compare-and-set that takes the slot
 * (setting {@link #WRITING}), plain writes of the fields, and a release write that publishes them. It allocates
 * nothing and touches no shared structure but the slot and the sequence counter: a hash index of many thousand
 * entries costs a cache miss per insert, so indexing is left to the threads that look ids up.
 *
 * <p><b>Slot state.</b> Each slot has one {@code long}: the number of the prediction it holds (upper 56 bits) and
 * flags. Readers check the number before and after reading the fields (a sequence lock), so a slot overwritten
 * meanwhile is seen as gone. The fate of a prediction (labelled, or dropped: replaced, evicted, expired) is
 * decided once, by a compare-and-set on the same word.
 *
 * <p><b>Index.</b> A {@code long} per position ({@code 4 × capacity} rounded up to a power of two): the
 * prediction number and a 16-bit tag of the id's hash, or 0. Lookups ({@link #find}) first index the predictions
 * put since the last lookup, in order, under this table's lock (so a label pays for the indexing of the records
 * scored before it, once each). An id sits in one of the {@value #WINDOW} positions from its hash; an entry whose
 * prediction the ring has overwritten is free. An entry for the same id is taken over (the older prediction is
 * replaced); with no free position the window's oldest entry is evicted (rare: the index is at most a quarter
 * full). The lock is never taken on the scoring path.
 *
 * <p>Thread-safe.
 */
final class PredictionTable {
    static final long WRITING = 1;
    static final long LABELLED = 2;
    static final long DROPPED = 4;
    static final long EXPIRED = 8;
    /** The slot's reference (challenger record or vector) is set. */
    static final long HAS_REF = 16;
    /** The low 8 bits hold the flags, the next 8 the model version (modulo 256), the upper 48 the number. */
    private static final int FLAG_BITS = 16;
    /** Clock readings are kept in units of 2^27 ns (about 134 ms), 32 bits: time-to-live is judged to that unit. */
    private static final int TICK_SHIFT = 27;
    static final int WINDOW = 8;
    private static final int STRIDE = 3;
    private static final int TAG_BITS = 16;
    private static final long TAG_MASK = (1L << TAG_BITS) - 1;
    private static final VarHandle LONGS = MethodHandles.arrayElementVarHandle(long[].class);

    private final int capacity;
    /** The time-to-live in clock units, rounded up. */
    private final long ttlTicks;
    private final AtomicLong sequence = new AtomicLong();
    /**
     * Per slot, three longs side by side: the state (number, version, flags), the id's 64-bit hash, and the
     * score's bits (upper half) with the clock reading in {@link #TICK_SHIFT} units (lower half). The id itself is
     * not kept: storing a reference into this long-lived array on every record would make the garbage collector's
     * write barrier queue dirty cards for its concurrent refinement threads, which measurably slows the scoring
     * thread (about a tenth of a 2 µs call with G1), and would keep every id alive.
     */
    private final long[] slots;
    /** Per slot: the challenger record, or (multi-class, not sampled) the vector; null for most records. */
    private final Object[] refs;
    /** Seeds the id hash, so that ids cannot be chosen to collide. */
    private final long seed;
    /** Guarded by this. */
    private final long[] index;
    private final int indexMask;
    /** The number of the last prediction indexed or given up; guarded by this. */
    private long indexedUpTo;
    /** Predictions not yet written when the indexer passed them, to index next time; guarded by this. */
    private final java.util.ArrayDeque<Long> unwritten = new java.util.ArrayDeque<>();
    final LongAdder replaced = new LongAdder();
    final LongAdder evicted = new LongAdder();
    final LongAdder expired = new LongAdder();

    PredictionTable(int capacity, long ttlNanos) {
        this.capacity = capacity;
        this.ttlTicks = (ttlNanos + (1L << TICK_SHIFT) - 1) >>> TICK_SHIFT;
        this.slots = new long[STRIDE * capacity];
        this.refs = new Object[capacity];
        this.seed = java.util.concurrent.ThreadLocalRandom.current().nextLong();
        int size = Integer.highestOneBit(Math.max(16, 4 * capacity - 1)) << 1;
        this.index = new long[size];
        this.indexMask = size - 1;
    }

    /** What a lookup found: a consistent copy of one slot. */
    static final class Found {
        long number;
        int slot;
        long state;
        /** The clock reading in {@link #TICK_SHIFT} units, modulo 2^32. */
        long ticks;
        float score;
        float @Nullable [] vector;
        int version;
        @Nullable Pending sampled;
    }

    /** Predictions put so far. */
    long tracked() {
        return sequence.get();
    }

    /** The number the next prediction will get; its challenger task is made before it is put. */
    long next() {
        return sequence.incrementAndGet();
    }

    /**
     * Puts prediction {@code number} (from {@link #next()}) of {@code id}: a score, or a vector of class
     * probabilities; {@code task} is its challenger record, or null when it is not sampled.
     */
    void put(long number, long idHash, float score, float @Nullable [] vector, int version, @Nullable Pending task,
             long nowNanos) {
        int slot = (int) (number % capacity);
        int at = STRIDE * slot;
        long ticks = (nowNanos >> TICK_SHIFT) & 0xFFFF_FFFFL;
        Object extra = task != null ? task : vector;
        long published = (number << FLAG_BITS) | ((version & 0xFFL) << 8) | (extra != null ? HAS_REF : 0);
        // Take the slot: one CAS, retried only if a label or a drop changed the old prediction's state meanwhile.
        long old;
        while (true) {
            old = (long) LONGS.getVolatile(slots, at);
            if ((old >>> FLAG_BITS) >= number) {
                evicted.increment(); // a newer prediction already has the slot: this one is gone before it was kept
                return;
            }
            if (LONGS.compareAndSet(slots, at, old, published | WRITING)) {
                break;
            }
        }
        if (old != 0 && (old & (LABELLED | DROPPED)) == 0) {
            if (age(slots[at + 2], ticks) > ttlTicks) {
                expired.increment();
            } else {
                evicted.increment();
            }
        }
        slots[at + 1] = idHash;
        slots[at + 2] = ((long) Float.floatToRawIntBits(score) << 32) | ticks;
        if (extra != null || (old & HAS_REF) != 0) {
            refs[slot] = extra; // most records have none, over none: no reference store at all
        }
        LONGS.setRelease(slots, at, published);
    }

    /** Clock units from {@code scoreAndTicks}' reading to {@code nowTicks}, modulo 2^32 (about 18 years). */
    private static long age(long scoreAndTicks, long nowTicks) {
        return (nowTicks - scoreAndTicks) & 0xFFFF_FFFFL;
    }

    /** Indexes every prediction put since the last call (and those that were still being written then). */
    private void catchUp() {
        int retries = unwritten.size();
        for (int i = 0; i < retries; i++) {
            long n = unwritten.poll();
            indexOne(n);
        }
        long upTo = sequence.get();
        for (long n = Math.max(indexedUpTo + 1, upTo - capacity + 1); n <= upTo; n++) {
            indexOne(n);
        }
        indexedUpTo = upTo;
    }

    private void indexOne(long n) {
        long s = (long) LONGS.getAcquire(slots, STRIDE * (int) (n % capacity));
        long held = s >>> FLAG_BITS;
        if (held < n || (held == n && (s & WRITING) != 0)) {
            if (n + capacity > sequence.get()) {
                unwritten.add(n); // its writer is between taking a number and publishing the slot
            }
            return;
        }
        if (held > n || (s & DROPPED) != 0) {
            return; // overwritten already, or dropped (its writer gave up)
        }
        long hash = hashOf(n);
        if (hash != 0) {
            index(n, hash);
        }
    }

    private void index(long number, long hash) {
        long tag = hash & TAG_MASK;
        int home = (int) (hash >>> 32) & indexMask;
        long newest = sequence.get();
        int free = -1;
        int oldest = -1;
        int same = -1;
        for (int i = 0; i < WINDOW; i++) {
            int p = (home + i) & indexMask;
            long v = index[p];
            long n = v >>> TAG_BITS;
            if (v == 0 || n + capacity <= newest) {
                if (free < 0) {
                    free = p;
                }
                continue;
            }
            if ((v & TAG_MASK) == tag && same < 0 && n < number && hashOf(n) == hash) {
                same = p;
            }
            if (oldest < 0 || v < index[oldest]) {
                oldest = p;
            }
        }
        int p = same >= 0 ? same : free >= 0 ? free : oldest;
        long before = index[p];
        index[p] = (number << TAG_BITS) | tag;
        if (same >= 0) {
            if (drop(before >>> TAG_BITS)) {
                replaced.increment();
            }
        } else if (free < 0 && drop(before >>> TAG_BITS)) {
            evicted.increment(); // the window was full of live predictions: the oldest makes room
        }
    }

    /** The id hash of prediction {@code number}, or 0 when its slot holds another one. */
    private long hashOf(long number) {
        int at = STRIDE * (int) (number % capacity);
        long s = (long) LONGS.getAcquire(slots, at);
        if ((s >>> FLAG_BITS) != number || (s & WRITING) != 0) {
            return 0;
        }
        long hash = slots[at + 1];
        VarHandle.loadLoadFence();
        return (long) LONGS.getVolatile(slots, at) == s ? hash : 0;
    }

    /**
     * Looks {@code id} up; fills {@code into} with a consistent copy of its newest prediction and returns true, or
     * returns false when none is held.
     */
    synchronized boolean find(String id, Found into) {
        catchUp();
        long hash = hash(id);
        long tag = hash & TAG_MASK;
        int home = (int) (hash >>> 32) & indexMask;
        long newest = sequence.get();
        boolean found = false;
        for (int i = 0; i < WINDOW; i++) {
            long v = index[(home + i) & indexMask];
            long n = v >>> TAG_BITS;
            if (v == 0 || (v & TAG_MASK) != tag || n + capacity <= newest || (found && n < into.number)) {
                continue;
            }
            int slot = (int) (n % capacity);
            int at = STRIDE * slot;
            long s = (long) LONGS.getAcquire(slots, at);
            if ((s >>> FLAG_BITS) != n || (s & WRITING) != 0) {
                continue;
            }
            long held = slots[at + 1];
            long scoreAndTicks = slots[at + 2];
            Object extra = (s & HAS_REF) != 0 ? refs[slot] : null;
            VarHandle.loadLoadFence();
            long again = (long) LONGS.getVolatile(slots, at);
            if ((again >>> FLAG_BITS) != n || held != hash) {
                continue;
            }
            Pending task = extra instanceof Pending ? (Pending) extra : null;
            float score = Float.intBitsToFloat((int) (scoreAndTicks >>> 32));
            int version = (int) ((again >>> 8) & 0xFF);
            float[] vector = task != null ? task.probabilities : (float[]) extra;
            into.number = n;
            into.slot = slot;
            into.state = again;
            into.ticks = scoreAndTicks & 0xFFFF_FFFFL;
            into.score = score;
            into.vector = vector;
            into.version = version;
            into.sampled = task;
            found = true;
        }
        return found;
    }

    /**
     * Decides the fate of prediction {@code number}: sets {@code fate} ({@link #LABELLED}, or {@link #DROPPED}
     * possibly with {@link #EXPIRED}) unless it is decided already or the slot holds another prediction. Returns
     * the state before, or -1 when it was decided or gone.
     */
    long claim(long number, long fate) {
        int at = STRIDE * (int) (number % capacity);
        while (true) {
            long s = (long) LONGS.getVolatile(slots, at);
            if ((s >>> FLAG_BITS) != number || (s & (LABELLED | DROPPED | WRITING)) != 0) {
                return -1;
            }
            if (LONGS.compareAndSet(slots, at, s, s | fate)) {
                return s;
            }
        }
    }

    /** The state of prediction {@code number}, or 0 when its slot holds another one. */
    long state(long number) {
        long s = (long) LONGS.getVolatile(slots, STRIDE * (int) (number % capacity));
        return (s >>> FLAG_BITS) == number ? s : 0;
    }

    private boolean drop(long number) {
        return claim(number, DROPPED) >= 0;
    }

    /** Whether the prediction found in {@code f} had outlived the time-to-live at {@code nowNanos}. */
    boolean expired(Found f, long nowNanos) {
        return age(f.ticks, (nowNanos >> TICK_SHIFT) & 0xFFFF_FFFFL) > ttlTicks;
    }

    /** Predictions held: waiting for their label, or labelled and kept to recognise a duplicate (for tests). */
    int held() {
        int n = 0;
        for (int i = 0; i < capacity; i++) {
            long s = (long) LONGS.getVolatile(slots, STRIDE * i);
            if (s != 0 && (s & DROPPED) == 0) {
                n++;
            }
        }
        return n;
    }

    /**
     * The id's 64-bit hash (FNV-1a over its characters from this table's seed, then a MurmurHash3 finalizer),
     * which stands for the id in the table: the upper half places it in the index, the low 16 bits tag it, and
     * two ids count as one only when all 64 bits agree (for ids not chosen with knowledge of the seed, a chance of
     * about 2^-64 per pair). Never 0.
     */
    long hash(String id) {
        long h = seed ^ 0xCBF29CE484222325L;
        for (int i = 0; i < id.length(); i++) {
            h = (h ^ id.charAt(i)) * 0x100000001B3L;
        }
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h == 0 ? 1 : h;
    }
}
