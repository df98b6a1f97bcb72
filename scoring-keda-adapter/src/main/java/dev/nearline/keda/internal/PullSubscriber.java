package dev.nearline.keda.internal;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.reactivestreams.Subscription;
import reactor.core.publisher.BaseSubscriber;

/**
 * Turns a push stream of messages into batch pulls with bounded demand: a pull requests only the
 * messages its callers are waiting for (never more than they asked for in total), so with a prefetch of 0
 * the broker locks no message that no caller will take. Messages that arrive after their caller gave up
 * wait for the next pull; {@link #drainUnclaimed()} hands them back for release on close. Thread-safe.
 *
 * @param <T> message type
 */
public final class PullSubscriber<T> extends BaseSubscriber<T> {
    private final LinkedBlockingQueue<T> arrived = new LinkedBlockingQueue<>();
    private final Object creditLock = new Object();
    private long outstanding;
    private long waitingDemand;
    private volatile @Nullable Throwable error;
    private volatile boolean subscribed;

    @Override
    protected void hookOnSubscribe(Subscription subscription) {
        subscribed = true; // demand comes from pull()
    }

    @Override
    protected void hookOnNext(T value) {
        synchronized (creditLock) {
            outstanding = Math.max(0, outstanding - 1);
        }
        arrived.add(value);
    }

    @Override
    protected void hookOnError(Throwable throwable) {
        error = throwable;
    }

    /** The error that ended the stream, or {@code null} while it is alive. */
    public @Nullable Throwable error() {
        return error;
    }

    /** Whether the stream has been subscribed and has not failed. */
    public boolean isHealthy() {
        return subscribed && error == null && !isDisposed();
    }

    /**
     * Waits up to {@code maxWait} for the first message and returns up to {@code max} messages.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public List<T> pull(int max, Duration maxWait) throws InterruptedException {
        synchronized (creditLock) {
            long want = waitingDemand + max - arrived.size() - outstanding;
            waitingDemand += max;
            if (want > 0 && !isDisposed()) {
                outstanding += want;
                request(want);
            }
        }
        try {
            List<T> out = new ArrayList<>(Math.min(max, 64));
            T first = arrived.poll(maxWait.toNanos(), TimeUnit.NANOSECONDS);
            if (first == null) {
                return out;
            }
            out.add(first);
            arrived.drainTo(out, max - 1);
            return out;
        } finally {
            synchronized (creditLock) {
                waitingDemand -= max;
            }
        }
    }

    /** Removes and returns the messages that arrived and no pull took. */
    public List<T> drainUnclaimed() {
        List<T> out = new ArrayList<>();
        arrived.drainTo(out);
        return out;
    }
}
