package dev.nearline.benchmarks;

/**
 * What every contender is configured with, so that they differ only in the code around
 * {@code OrtSession.run}: one intra-op and one inter-op thread per session. One record is far too
 * small to split across threads (waking a pool costs more than {@code tiny}'s whole run), and on a
 * 2-core machine a second intra-op thread would compete with the JMH threads themselves.
 */
final class Settings {
    static final int INTRA_OP_THREADS = 1;
    static final int INTER_OP_THREADS = 1;

    private Settings() {
    }
}
