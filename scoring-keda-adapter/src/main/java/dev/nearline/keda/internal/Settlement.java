package dev.nearline.keda.internal;

import dev.nearline.api.ScoringException.Kind;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The settlement table: what the worker does with a request once its outcome is known. A reply, when
 * there is one, is always sent before the request is settled.
 *
 * <table>
 *   <caption>outcome to reply and settle action</caption>
 *   <tr><th>outcome</th><th>reply</th><th>settle</th></tr>
 *   <tr><td>scored</td><td>OK</td><td>complete</td></tr>
 *   <tr><td>INVALID_INPUT</td><td>ERROR</td><td>dead-letter, reason INVALID_INPUT</td></tr>
 *   <tr><td>DEADLINE_EXCEEDED, the request's own deadline passed</td><td>ERROR</td><td>complete (a stale
 *       request has no value)</td></tr>
 *   <tr><td>other retryable kinds, not the last delivery</td><td>none</td><td>abandon (redelivered);
 *       OVERLOADED and UNAVAILABLE also pause receiving</td></tr>
 *   <tr><td>retryable kinds on the last delivery</td><td>ERROR</td><td>dead-letter, reason = kind</td></tr>
 * </table>
 */
public final class Settlement {
    private Settlement() {
    }

    /** How a request is settled. */
    public enum Action {
        /** Remove the request: handled. */
        COMPLETE,
        /** Release the lock; the broker redelivers. */
        ABANDON,
        /** Move to the dead-letter queue with a reason. */
        DEAD_LETTER
    }

    /**
     * One row of the table.
     *
     * @param action what to do with the request
     * @param reply  whether to send a reply first (when the request has a ReplyTo)
     * @param reason the dead-letter reason, or {@code null}
     * @param backOff whether receiving should pause before taking more work
     */
    public record Decision(Action action, boolean reply, @Nullable String reason, boolean backOff) {
        /** Validates. */
        public Decision {
            Objects.requireNonNull(action, "action");
            if ((action == Action.DEAD_LETTER) != (reason != null)) {
                throw new IllegalArgumentException("a dead-letter decision needs a reason, others none");
            }
        }
    }

    /**
     * Decides for one request.
     *
     * @param kind             the failure kind, or {@code null} when the record was scored
     * @param deadlinePassed   whether the request's own deadline has passed
     * @param deliveryCount    the request's delivery count (1 on the first delivery)
     * @param maxDeliveryCount the entity's MaxDeliveryCount; at or past it this is the last delivery
     */
    public static Decision decide(@Nullable Kind kind, boolean deadlinePassed, long deliveryCount, int maxDeliveryCount) {
        if (kind == null) {
            return new Decision(Action.COMPLETE, true, null, false);
        }
        if (kind == Kind.INVALID_INPUT) {
            return new Decision(Action.DEAD_LETTER, true, kind.name(), false);
        }
        if (kind == Kind.DEADLINE_EXCEEDED && deadlinePassed) {
            return new Decision(Action.COMPLETE, true, null, false);
        }
        boolean backOff = kind == Kind.OVERLOADED || kind == Kind.UNAVAILABLE;
        if (deliveryCount >= maxDeliveryCount) {
            return new Decision(Action.DEAD_LETTER, true, kind.name(), backOff);
        }
        return new Decision(Action.ABANDON, false, null, backOff);
    }
}
