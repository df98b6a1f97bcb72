package dev.nearline.keda;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where the worker takes labels from, read from environment variables by {@link #fromEnvironment(Map)}:
 * {@code NEARLINE_FEEDBACK_QUEUE}, or {@code NEARLINE_FEEDBACK_TOPIC} with {@code NEARLINE_FEEDBACK_SUBSCRIPTION},
 * on the same Service Bus namespace and credential as the requests. Unset: the worker takes no labels. The
 * pipeline must then have a {@code "quality"} object. Immutable.
 *
 * @param queue        the feedback queue, or {@code null} for a topic subscription
 * @param topic        the feedback topic, or {@code null} for a queue
 * @param subscription the topic's subscription, or {@code null} for a queue
 */
public record FeedbackConfig(@Nullable String queue, @Nullable String topic, @Nullable String subscription) {

    /** Names of the variables read. */
    public static final List<String> VARIABLES = List.of("NEARLINE_FEEDBACK_QUEUE", "NEARLINE_FEEDBACK_TOPIC",
            "NEARLINE_FEEDBACK_SUBSCRIPTION");

    /** Checks that exactly one entity is named. */
    public FeedbackConfig {
        if ((queue == null) == (topic == null) || (topic == null) != (subscription == null)) {
            throw new IllegalArgumentException("set either queue, or topic and subscription");
        }
    }

    /** A feedback queue. */
    public static FeedbackConfig queue(String name) {
        return new FeedbackConfig(Objects.requireNonNull(name, "name"), null, null);
    }

    /**
     * The feedback entity named by the environment, or {@code null} when none is.
     *
     * @throws IllegalArgumentException naming the variables that conflict or are missing
     */
    public static @Nullable FeedbackConfig fromEnvironment(Map<String, String> env) {
        EnvReader r = new EnvReader(env);
        String queue = r.optional("NEARLINE_FEEDBACK_QUEUE");
        String topic = r.optional("NEARLINE_FEEDBACK_TOPIC");
        String subscription = r.optional("NEARLINE_FEEDBACK_SUBSCRIPTION");
        List<String> problems = new ArrayList<>();
        if (queue != null && (topic != null || subscription != null)) {
            problems.add("NEARLINE_FEEDBACK_QUEUE and NEARLINE_FEEDBACK_TOPIC/NEARLINE_FEEDBACK_SUBSCRIPTION are both "
                    + "set; set one");
        } else if (queue == null && (topic == null) != (subscription == null)) {
            problems.add(topic == null ? "NEARLINE_FEEDBACK_TOPIC is required with NEARLINE_FEEDBACK_SUBSCRIPTION"
                    : "NEARLINE_FEEDBACK_SUBSCRIPTION is required with NEARLINE_FEEDBACK_TOPIC");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("worker configuration is invalid:\n  " + String.join("\n  ", problems));
        }
        if (queue == null && topic == null) {
            return null;
        }
        return new FeedbackConfig(queue, topic, subscription);
    }

    /** The entity, as the worker logs it. */
    String entity() {
        return queue != null ? queue : topic + "/" + subscription;
    }
}
