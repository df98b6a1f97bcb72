package dev.nearline.keda;

import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scorer that holds every call at a gate until the test opens it, then delegates to a real scorer:
 * lets a test catch a worker with messages in flight. The gate starts closed; {@link #hold()} closes it
 * again and {@link #allow(int)} lets a number of records through before it holds. Counts the records that
 * reached the gate.
 */
final class GatedScorer<I, O> implements Scorer<I, O> {
    private static final long OPEN = Long.MAX_VALUE / 2;
    private final Scorer<I, O> delegate;
    private volatile CountDownLatch gate = new CountDownLatch(1);
    /** Records that may still pass without waiting for the gate. */
    private final AtomicLong allowance = new AtomicLong();
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicInteger held = new AtomicInteger();

    GatedScorer(Scorer<I, O> delegate) {
        this.delegate = delegate;
    }

    /** Lets every held call and every later one through. */
    void open() {
        allowance.set(OPEN);
        gate.countDown();
    }

    /** Closes the gate again: holds later calls (calls already let through are not affected). */
    void hold() {
        allow(0);
    }

    /** Lets calls through until {@code records} records have passed, then holds the next call. */
    void allow(int records) {
        if (gate.getCount() == 0) {
            gate = new CountDownLatch(1);
        }
        allowance.set(records);
    }

    /** Records that reached the gate so far. */
    int arrived() {
        return waiting.get();
    }

    /** Records waiting at the closed gate now. */
    int held() {
        return held.get();
    }

    private void pass(int records) {
        waiting.addAndGet(records);
        for (long left = allowance.get(); left >= records; left = allowance.get()) {
            if (allowance.compareAndSet(left, left - records)) {
                return;
            }
        }
        held.addAndGet(records);
        try {
            if (!gate.await(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("test never opened the gate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } finally {
            held.addAndGet(-records);
        }
    }

    @Override
    public O score(I record) {
        pass(1);
        return delegate.score(record);
    }

    @Override
    public O score(I record, Duration timeout) {
        pass(1);
        return delegate.score(record, timeout);
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record) {
        return CompletableFuture.supplyAsync(() -> {
            pass(1);
            return delegate.score(record);
        });
    }

    @Override
    public CompletableFuture<O> scoreAsync(I record, Duration timeout) {
        return CompletableFuture.supplyAsync(() -> {
            pass(1);
            return delegate.score(record, timeout);
        });
    }

    @Override
    public List<Outcome<O>> scoreAll(List<? extends I> records) {
        pass(records.size());
        return delegate.scoreAll(records);
    }

    @Override
    public void close() {
        delegate.close();
    }
}
