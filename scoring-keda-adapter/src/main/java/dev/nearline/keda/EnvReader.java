package dev.nearline.keda;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Reads configuration from environment variables, collecting problems instead of failing on the first, so one
 * start names every bad variable (the worker's, the payload store's). Blank counts as unset. Not thread-safe.
 */
final class EnvReader {
    private final Map<String, String> env;
    /** What is wrong, one line per variable. */
    final List<String> problems = new ArrayList<>();

    EnvReader(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    @Nullable String optional(String name) {
        String v = env.get(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    @Nullable String required(String name, String what) {
        String v = optional(name);
        if (v == null) {
            problems.add(name + " is required (" + what + ")");
        }
        return v;
    }

    String string(String name, String defaultValue) {
        String v = optional(name);
        return v == null ? defaultValue : v;
    }

    int integer(String name, int defaultValue, int min, int max) {
        return (int) number(name, defaultValue, min, max); // within [min, max], so within int
    }

    boolean bool(String name, boolean defaultValue) {
        String v = optional(name);
        if (v == null) {
            return defaultValue;
        }
        switch (v.toLowerCase(Locale.ROOT)) {
            case "true":
                return true;
            case "false":
                return false;
            default:
                problems.add(name + " must be true or false, got '" + v + "'");
                return defaultValue;
        }
    }

    long number(String name, long defaultValue, long min, long max) {
        String v = optional(name);
        if (v == null) {
            return defaultValue;
        }
        try {
            long n = Long.parseLong(v);
            if (n < min || n > max) {
                problems.add(name + " must be between " + min + " and " + max + ", got " + n);
                return defaultValue;
            }
            return n;
        } catch (NumberFormatException e) {
            problems.add(name + " must be an integer, got '" + v + "'");
            return defaultValue;
        }
    }
}
