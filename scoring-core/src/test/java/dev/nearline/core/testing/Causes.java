package dev.nearline.core.testing;

import java.util.ArrayList;
import java.util.List;

/** What a failure says, all of it: for tests that check no secret or record value leaks into an error. */
public final class Causes {
    private Causes() {
    }

    /** {@code toString()} of {@code t}, of each of its causes and of every suppressed exception, depth first. */
    public static List<String> messages(Throwable t) {
        List<String> out = new ArrayList<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            out.add(c.toString());
            for (Throwable s : c.getSuppressed()) {
                out.addAll(messages(s));
            }
        }
        return out;
    }
}
