package dev.nearline.keda;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * An in-memory {@link Transport} for what the Service Bus stand-in cannot do (lock renewal, sessions)
 * and for failure injection: failing or hanging calls (a hung call returns a future that never
 * completes), failing or hanging receives and probes, a close that hangs. Not a broker: abandoned messages
 * are queued again with a higher delivery count, and nothing expires. Thread-safe.
 */
final class FakeTransport implements Transport {
    private final LinkedBlockingQueue<InboundMessage> queue = new LinkedBlockingQueue<>();
    final List<Reply> replies = new CopyOnWriteArrayList<>();
    final Map<String, Integer> completed = new ConcurrentHashMap<>();
    final Map<String, Integer> abandoned = new ConcurrentHashMap<>();
    final Map<String, String> deadLettered = new ConcurrentHashMap<>();
    final Map<String, String> deadLetterDescriptions = new ConcurrentHashMap<>();
    final Map<String, Integer> renewals = new ConcurrentHashMap<>();
    final AtomicInteger locked = new AtomicInteger();
    final AtomicInteger maxLocked = new AtomicInteger();
    volatile boolean failReplies;
    volatile boolean failCompletes;
    volatile Function<InboundMessage, CompletableFuture<Instant>> renew =
            m -> CompletableFuture.failedFuture(new UnsupportedOperationException("no renewal"));
    volatile boolean disconnected;
    /** Replies return futures that never complete. */
    volatile boolean hangReplies;
    /** When set, a reply blocks its caller until it opens (or 2 min pass), then succeeds. */
    volatile @Nullable CountDownLatch replyBlock;
    /** Completes, abandons and dead-letters return futures that never complete. */
    volatile boolean hangSettles;
    /** Receives throw, as when the broker cannot be reached. */
    volatile boolean failReceives;
    /** When set, the next receive (one call only) blocks until it opens (or 2 min pass). */
    final AtomicReference<@Nullable CountDownLatch> holdNextReceive = new AtomicReference<>();
    /** When set, {@link #close()} blocks until it opens (or 2 min pass). */
    volatile @Nullable CountDownLatch closeGate;
    volatile Supplier<CompletableFuture<Void>> probe = () -> CompletableFuture.completedFuture(null);
    /** Probe calls. */
    final AtomicInteger probes = new AtomicInteger();
    /** Receive calls that returned (with or without messages). */
    final AtomicInteger receives = new AtomicInteger();
    /** Calls the worker made whose futures never complete, by kind. */
    final Map<String, Integer> hung = new ConcurrentHashMap<>();
    private volatile @Nullable CountDownLatch held;
    private volatile boolean closed;

    /** Queues a request with the worker's envelope around {@code recordJson}. */
    void offer(String id, String recordJson, @Nullable String replyToSessionId, @Nullable Instant lockedUntil) {
        queue.add(message(id, ("{\"record\":" + recordJson + "}").getBytes(StandardCharsets.UTF_8), replyToSessionId,
                lockedUntil));
    }

    /** Queues a request with {@code body} as it is, to the reply queue {@code replies}. */
    void offerBody(String id, byte[] body) {
        queue.add(message(id, body, null, null));
    }

    private static InboundMessage message(String id, byte[] body, @Nullable String replyToSessionId,
                                          @Nullable Instant lockedUntil) {
        return new InboundMessage(id, "replies", replyToSessionId, body, 1, Instant.now(), lockedUntil, Map.of(),
                new Object());
    }

    @Override
    public List<InboundMessage> receive(int maxMessages, Duration maxWait) throws InterruptedException {
        if (closed) {
            throw new IllegalStateException("closed");
        }
        CountDownLatch gate = holdNextReceive.getAndSet(null);
        if (gate != null) {
            held = gate;
            gate.await(2, TimeUnit.MINUTES);
        }
        if (failReceives) {
            throw new IllegalStateException("broker unreachable");
        }
        InboundMessage first = queue.poll(maxWait.toNanos(), TimeUnit.NANOSECONDS);
        if (first == null) {
            receives.incrementAndGet();
            return List.of();
        }
        List<InboundMessage> out = new java.util.ArrayList<>();
        out.add(first);
        queue.drainTo(out, maxMessages - 1);
        int now = locked.addAndGet(out.size());
        maxLocked.accumulateAndGet(now, Math::max);
        receives.incrementAndGet();
        return out;
    }

    @Override
    public CompletableFuture<Void> reply(Reply reply) {
        CountDownLatch block = replyBlock;
        if (block != null) {
            try {
                block.await(2, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (hangReplies) {
            return hang("reply");
        }
        if (failReplies) {
            return CompletableFuture.failedFuture(new IllegalStateException("reply entity unavailable"));
        }
        replies.add(reply);
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Void> complete(InboundMessage message) {
        if (hangSettles) {
            return hang("complete");
        }
        if (failCompletes) {
            locked.decrementAndGet();
            return CompletableFuture.failedFuture(new IllegalStateException("MESSAGE_LOCK_LOST"));
        }
        return settled(completed, message);
    }

    @Override
    public CompletableFuture<Void> abandon(InboundMessage message) {
        if (hangSettles) {
            return hang("abandon");
        }
        CompletableFuture<Void> f = settled(abandoned, message);
        InboundMessage m = message;
        queue.add(new InboundMessage(m.messageId(), m.replyTo(), m.replyToSessionId(), m.body(), m.deliveryCount() + 1,
                m.enqueuedTime(), m.lockedUntil(), m.properties(), new Object()));
        return f;
    }

    @Override
    public CompletableFuture<Void> deadLetter(InboundMessage message, String reason, String description) {
        if (hangSettles) {
            return hang("deadLetter");
        }
        deadLettered.put(message.messageId(), reason);
        deadLetterDescriptions.put(message.messageId(), description);
        locked.decrementAndGet();
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public CompletableFuture<Instant> renewLock(InboundMessage message) {
        renewals.merge(message.messageId(), 1, Integer::sum);
        return renew.apply(message);
    }

    @Override
    public CompletableFuture<Void> probe() {
        probes.incrementAndGet();
        return probe.get();
    }

    @Override
    public boolean isConnected() {
        return !closed && !disconnected;
    }

    @Override
    public void close() {
        closed = true;
        CountDownLatch gate = closeGate;
        if (gate != null) {
            try {
                gate.await(2, TimeUnit.MINUTES);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Opens every gate, so that no thread stays blocked in this transport after a test. */
    void openGates() {
        CountDownLatch r = held;
        if (r != null) {
            r.countDown();
        }
        CountDownLatch c = closeGate;
        if (c != null) {
            c.countDown();
        }
        CountDownLatch b = replyBlock;
        if (b != null) {
            b.countDown();
        }
    }

    private CompletableFuture<Void> hang(String call) {
        hung.merge(call, 1, Integer::sum);
        return new CompletableFuture<>();
    }

    private CompletableFuture<Void> settled(Map<String, Integer> into, InboundMessage message) {
        into.merge(message.messageId(), 1, Integer::sum);
        locked.decrementAndGet();
        return CompletableFuture.completedFuture(null);
    }
}
