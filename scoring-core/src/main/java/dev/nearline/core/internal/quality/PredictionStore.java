package dev.nearline.core.internal.quality;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * The predictions waiting for their labels, by id, at most {@code capacity} of them: a concurrent map for the
 * lookup and a ring of the same capacity, in arrival order, for the eviction. Each new prediction takes the
 * next slot of the ring and evicts the prediction that held it, so the map never holds more than
 * {@code capacity} entries plus one per thread mid-insert. No locks on the way in: one map insert (lock-free for
 * an empty bin; a short per-bin lock on a collision, which a sized table makes rare), one atomic exchange in the
 * ring, one map removal. Thread-safe.
 */
final class PredictionStore {
    private final int capacity;
    private final long ttlNanos;
    private final ConcurrentHashMap<String, Pending> map;
    private final AtomicReferenceArray<Pending> ring;
    private final AtomicLong sequence = new AtomicLong();
    final LongAdder tracked = new LongAdder();
    final LongAdder replaced = new LongAdder();
    final LongAdder evicted = new LongAdder();
    final LongAdder expired = new LongAdder();

    PredictionStore(int capacity, long ttlNanos) {
        this.capacity = capacity;
        this.ttlNanos = ttlNanos;
        this.map = new ConcurrentHashMap<>(Math.min(capacity, 1 << 16));
        this.ring = new AtomicReferenceArray<>(capacity);
    }

    long nextSeq() {
        return sequence.getAndIncrement();
    }

    /** Keeps {@code p}, replacing a prediction of the same id and evicting the oldest beyond the capacity. */
    void put(Pending p, long nowNanos) {
        tracked.increment();
        Pending previous = map.put(p.id, p);
        if (previous != null && previous.claim(Pending.DROPPED) >= 0) {
            replaced.increment();
        }
        Pending old = ring.getAndSet((int) (p.seq % capacity), p);
        if (old != null) {
            boolean late = expired(old, nowNanos);
            if (old.claim(late ? Pending.DROPPED | Pending.EXPIRED : Pending.DROPPED) >= 0) {
                if (late) {
                    expired.increment();
                } else {
                    evicted.increment();
                }
            }
            map.remove(old.id, old);
        }
    }

    @Nullable Pending get(String id) {
        return map.get(id);
    }

    /** Forgets {@code p} (once expired). */
    void remove(Pending p) {
        map.remove(p.id, p);
    }

    boolean expired(Pending p, long nowNanos) {
        return nowNanos - p.nanos > ttlNanos;
    }

    /** Entries held: waiting, or labelled and kept to recognise a duplicate label. */
    int size() {
        return map.size();
    }
}
