package dev.nearline.durable;

/**
 * Sends the replies of {@link ServiceBusScoring}. The built-in implementation sends with the Azure
 * Service Bus SDK over the connection string named by {@code NEARLINE_REPLY_CONNECTION}; tests and other
 * transports supply their own through {@link NearlineFunctions.Builder#replySender(ReplySender)}.
 * Implementations are thread-safe; {@link NearlineFunctions#close()} closes the one it uses.
 */
public interface ReplySender extends AutoCloseable {

    /**
     * Sends one reply; returns once the broker has accepted it.
     *
     * @throws RuntimeException if it was not sent; the trigger then fails so that the host abandons
     *     the request and it is delivered again
     */
    void send(Reply reply);

    /** Releases connections. Idempotent. The default does nothing. */
    @Override
    default void close() {
    }
}
