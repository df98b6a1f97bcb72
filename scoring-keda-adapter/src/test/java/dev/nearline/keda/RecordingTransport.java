package dev.nearline.keda;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Wraps a real transport and records the dead-letter reasons and descriptions the worker gave (the
 * stand-in broker drops them, so tests read them here) and the settle calls by message id.
 */
final class RecordingTransport implements Transport {
    private final Transport delegate;
    final Map<String, String> deadLetterReasons = new ConcurrentHashMap<>();
    final Map<String, String> deadLetterDescriptions = new ConcurrentHashMap<>();
    final Map<String, Integer> abandons = new ConcurrentHashMap<>();
    final Map<String, Integer> completes = new ConcurrentHashMap<>();

    RecordingTransport(Transport delegate) {
        this.delegate = delegate;
    }

    @Override
    public List<InboundMessage> receive(int maxMessages, Duration maxWait) throws InterruptedException {
        return delegate.receive(maxMessages, maxWait);
    }

    @Override
    public CompletableFuture<Void> reply(Reply reply) {
        return delegate.reply(reply);
    }

    @Override
    public CompletableFuture<Void> complete(InboundMessage message) {
        completes.merge(message.messageId(), 1, Integer::sum);
        return delegate.complete(message);
    }

    @Override
    public CompletableFuture<Void> abandon(InboundMessage message) {
        abandons.merge(message.messageId(), 1, Integer::sum);
        return delegate.abandon(message);
    }

    @Override
    public CompletableFuture<Void> deadLetter(InboundMessage message, String reason, String description) {
        deadLetterReasons.put(message.messageId(), reason);
        deadLetterDescriptions.put(message.messageId(), description);
        return delegate.deadLetter(message, reason, description);
    }

    @Override
    public CompletableFuture<Instant> renewLock(InboundMessage message) {
        return delegate.renewLock(message);
    }

    @Override
    public boolean isConnected() {
        return delegate.isConnected();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
