package dev.nearline.keda;

import dev.nearline.api.Outcome;
import dev.nearline.api.Scorer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A scorer that holds every call at a gate until the test opens it, then delegates to a real scorer:
 * lets a test catch a worker with messages in flight. Counts the records that reached the gate.
 */
final class GatedScorer<I, O> implements Scorer<I, O> {
    private final Scorer<I, O> delegate;
    private final CountDownLatch gate = new CountDownLatch(1);
    private final AtomicInteger waiting = new AtomicInteger();

    GatedScorer(Scorer<I, O> delegate) {
        this.delegate = delegate;
    }

    void open() {
        gate.countDown();
    }

    /** Records that reached the gate so far. */
    int arrived() {
        return waiting.get();
    }

    private void pass(int records) {
        waiting.addAndGet(records);
        try {
            if (!gate.await(2, TimeUnit.MINUTES)) {
                throw new IllegalStateException("test never opened the gate");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
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
