package dev.nearline.benchmarks.capacity;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.function.DoubleUnaryOperator;

/**
 * Simulates a queue worker Deployment scaled by KEDA's {@code azure-servicebus} scaler and the Horizontal
 * Pod Autoscaler, one second at a time, on a traffic trace: replicas, queue length and request wait.
 * Not thread-safe; one instance per run.
 *
 * <p>The control loops follow the documented algorithms (cited in {@code examples/keda-worker/README.md}):
 * <ul>
 *   <li><b>Metric</b>: the queue's active message count, which is every message sent and not yet
 *       completed: the backlog waiting at the end of the last second plus, by Little's law, the messages
 *       locked in pods (served per second × the pod's latency per message); locked messages count as
 *       active.</li>
 *   <li><b>KEDA activation</b> (0 ↔ 1), every {@code pollingInterval}: the scaler is active when the metric
 *       is greater than {@code activationMessageCount}. At 0 replicas an active scaler scales the
 *       Deployment to {@code max(minReplicaCount, 1)}; with replicas and {@code minReplicaCount = 0}, a
 *       scaler not active for {@code cooldownPeriod} since it was last active scales it to 0.</li>
 *   <li><b>HPA</b> (1 ↔ N), every HPA sync period (15 s by default) while replicas ≥ 1: an external metric
 *       with an {@code AverageValue} target of {@code messageCount} gives the ratio
 *       {@code r = metric / (messageCount × replicas)}; within the tolerance ({@code |r − 1| ≤ 0.1}) the
 *       recommendation is the current replica count, else {@code ceil(metric / messageCount)}. Stabilization:
 *       scale up to the lowest recommendation of the scale-up window (0 s by default), down to the highest of
 *       the scale-down window (300 s by default, {@code stabilizationWindowSeconds}). Rate limits (defaults):
 *       up by at most {@code max(100 %, 4 pods)} per 15 s, down by at most 100 % per 15 s; a policy's budget
 *       counts the scale events of the last {@code periodSeconds}. Clamped to [max(min, 1), max].</li>
 *   <li><b>Pods</b>: a pod added at {@code t} serves from {@code t + podReadySeconds} at {@code podRate}
 *       messages/s; a removed pod stops at once (its in-flight messages drain within the grace period and
 *       are not lost, so they stay counted as served).</li>
 *   <li><b>Queue</b>: fluid and first-in first-out. Each second's arrivals form one cohort; service takes
 *       the oldest first. A message's wait is from its arrival to the start of its service; p99 is taken over
 *       the messages whose service started in each reporting window.</li>
 * </ul>
 */
public final class KedaScalingSimulator {

    /**
     * What is simulated: the ScaledObject's settings, the HPA's behavior and the pods.
     *
     * @param messageCount target active messages per replica (the scaler's {@code messageCount})
     * @param activationMessageCount activation threshold (active when the count is greater)
     * @param pollingIntervalSeconds KEDA's {@code pollingInterval}
     * @param cooldownPeriodSeconds KEDA's {@code cooldownPeriod} (applies only to scaling to 0)
     * @param minReplicas {@code minReplicaCount}
     * @param maxReplicas {@code maxReplicaCount}
     * @param hpaSyncSeconds kube-controller-manager's {@code --horizontal-pod-autoscaler-sync-period} (15)
     * @param tolerance the HPA's tolerance (0.1)
     * @param scaleUpWindowSeconds scale-up stabilization window (0)
     * @param scaleDownWindowSeconds scale-down stabilization window (300, or the ScaledObject's behavior)
     * @param podReadySeconds from a replica being added to its pod serving
     * @param podRate messages per second one pod serves
     * @param podLatencySeconds a message's time in a pod, receive to settled (for the in-flight count)
     */
    public record Settings(int messageCount, int activationMessageCount, int pollingIntervalSeconds,
                           int cooldownPeriodSeconds, int minReplicas, int maxReplicas, int hpaSyncSeconds,
                           double tolerance, int scaleUpWindowSeconds, int scaleDownWindowSeconds,
                           int podReadySeconds, double podRate, double podLatencySeconds) {
        /** Validates every setting. */
        public Settings {
            if (messageCount < 1 || activationMessageCount < 0 || pollingIntervalSeconds < 1 || cooldownPeriodSeconds < 0
                    || minReplicas < 0 || maxReplicas < Math.max(1, minReplicas) || hpaSyncSeconds < 1 || tolerance < 0
                    || scaleUpWindowSeconds < 0 || scaleDownWindowSeconds < 0 || podReadySeconds < 0 || !(podRate > 0)
                    || podLatencySeconds < 0) {
                throw new IllegalArgumentException("invalid settings: " + this);
            }
        }

        /** These settings with another messageCount, scale-down window and polling interval. */
        public Settings with(int messageCount, int scaleDownWindowSeconds, int pollingIntervalSeconds) {
            return new Settings(messageCount, activationMessageCount, pollingIntervalSeconds, cooldownPeriodSeconds,
                    minReplicas, maxReplicas, hpaSyncSeconds, tolerance, scaleUpWindowSeconds, scaleDownWindowSeconds,
                    podReadySeconds, podRate, podLatencySeconds);
        }
    }

    /**
     * One reporting window of a run.
     *
     * @param second the window's start, seconds from the trace's start
     * @param arrivalRate mean arrivals per second in the window
     * @param replicas the Deployment's highest replica count in the window
     * @param readyPods pods serving at the window's end
     * @param queue the most messages waiting at the end of a second in the window
     * @param waitP99Seconds p99 wait of the messages whose service started in the window (0 if none)
     */
    public record Sample(int second, double arrivalRate, int replicas, int readyPods, double queue, double waitP99Seconds) {
    }

    /** A run's samples and totals. */
    public record Result(List<Sample> samples, double waitP99Seconds, double maxQueue, int maxReplicas,
                         double podSeconds) {
    }

    private final Settings s;
    private final Deque<double[]> cohorts = new ArrayDeque<>(); // {arrival second, messages}
    private final List<double[]> recommendations = new ArrayList<>(); // {second, replicas}
    private final List<double[]> scaleEvents = new ArrayList<>(); // {second, replicas changed by (+ up, - down)}
    private final List<Integer> podReadyAt = new ArrayList<>(); // one entry per replica, in order of creation
    private double queued;
    private int replicas;
    private int lastActiveSecond = Integer.MIN_VALUE / 2;

    /** A simulator with {@code settings}, starting at {@code minReplicas} ready pods and an empty queue. */
    public KedaScalingSimulator(Settings settings) {
        this.s = Objects.requireNonNull(settings, "settings");
        for (int i = 0; i < settings.minReplicas(); i++) {
            podReadyAt.add(0);
        }
        this.replicas = settings.minReplicas();
    }

    /** The HPA's recommendation before stabilization and rate limits (also used by the tests). */
    static int recommend(double metric, int messageCount, int currentReplicas, double tolerance) {
        double ratio = metric / ((double) messageCount * currentReplicas);
        if (Math.abs(ratio - 1.0) <= tolerance) {
            return currentReplicas;
        }
        return (int) Math.ceil(metric / messageCount);
    }

    /**
     * Runs {@code seconds} of {@code arrivals} (messages per second as a function of the second) and reports
     * every {@code windowSeconds}.
     */
    public Result run(DoubleUnaryOperator arrivals, int seconds, int windowSeconds) {
        List<Sample> samples = new ArrayList<>();
        List<double[]> allWaits = new ArrayList<>(); // {wait, messages}
        List<double[]> windowWaits = new ArrayList<>();
        double windowArrivals = 0;
        double windowQueue = 0;
        int windowReplicas = 0;
        double maxQueue = 0;
        int maxReplicas = replicas;
        double podSeconds = 0;
        double servedLast = 0;
        for (int t = 0; t < seconds; t++) {
            // the controllers read the state at the start of the second: backlog + locked in pods
            double metric = queue() + servedLast * s.podLatencySeconds();
            if (t % s.pollingIntervalSeconds() == 0) {
                keda(t, metric);
            }
            if (t % s.hpaSyncSeconds() == 0 && replicas >= 1) {
                hpa(t, metric);
            }
            double arriving = Math.max(0, arrivals.applyAsDouble(t));
            windowArrivals += arriving;
            if (arriving > 0) {
                cohorts.addLast(new double[] {t, arriving});
                queued += arriving;
            }
            int ready = readyPods(t);
            podSeconds += replicas;
            double before = queue();
            serve(t, ready * s.podRate(), windowWaits, allWaits);
            servedLast = before - queue();
            maxQueue = Math.max(maxQueue, queue());
            maxReplicas = Math.max(maxReplicas, replicas);
            windowQueue = Math.max(windowQueue, queue());
            windowReplicas = Math.max(windowReplicas, replicas);
            if ((t + 1) % windowSeconds == 0 || t == seconds - 1) {
                int start = t + 1 - ((t % windowSeconds) + 1);
                samples.add(new Sample(start, windowArrivals / ((t % windowSeconds) + 1), windowReplicas, readyPods(t + 1),
                        windowQueue, p99(windowWaits)));
                windowWaits.clear();
                windowArrivals = 0;
                windowQueue = 0;
                windowReplicas = 0;
            }
        }
        return new Result(samples, p99(allWaits), maxQueue, maxReplicas, podSeconds);
    }

    private double queue() {
        return cohorts.isEmpty() ? 0 : Math.max(0, queued);
    }

    private int readyPods(int t) {
        int ready = 0;
        for (int at : podReadyAt) {
            if (at <= t) {
                ready++;
            }
        }
        return ready;
    }

    /** KEDA's own loop: activation and scale to zero. */
    private void keda(int t, double metric) {
        boolean active = metric > s.activationMessageCount();
        if (active) {
            lastActiveSecond = t;
        }
        if (replicas == 0 && active) {
            setReplicas(t, Math.max(s.minReplicas(), 1));
        } else if (replicas > 0 && !active && s.minReplicas() == 0 && t - lastActiveSecond >= s.cooldownPeriodSeconds()) {
            setReplicas(t, 0);
            recommendations.clear();
        }
    }

    /** One HPA sync: recommendation, stabilization, rate limits, bounds. */
    private void hpa(int t, double metric) {
        int current = replicas;
        int recommendation = recommend(metric, s.messageCount(), current, s.tolerance());
        recommendations.add(new double[] {t, recommendation});
        recommendations.removeIf(r -> r[0] <= t - Math.max(s.scaleUpWindowSeconds(), s.scaleDownWindowSeconds()) - 1);
        int up = recommendation;
        int down = recommendation;
        for (double[] r : recommendations) {
            if (r[0] > t - s.scaleUpWindowSeconds() || r[0] == t) {
                up = Math.min(up, (int) r[1]);
            }
            if (r[0] > t - s.scaleDownWindowSeconds() || r[0] == t) {
                down = Math.max(down, (int) r[1]);
            }
        }
        int desired = current;
        if (current < up) {
            desired = up;
        } else if (current > down) {
            desired = down;
        }
        // rate limits over the last 15 s of scale events (default policies)
        int added = 0;
        for (double[] e : scaleEvents) {
            if (e[0] > t - 15 && e[1] > 0) {
                added += (int) e[1];
            }
        }
        if (desired > current) {
            int periodStart = current - added;
            int limit = Math.max((int) Math.ceil(periodStart * 2.0), periodStart + 4);
            desired = Math.min(desired, limit);
        } else if (desired < current) {
            // 100 % of the replicas at the period's start per 15 s: (current + removed) x (1 - 1.0) = 0, so the
            // default scale-down policy never holds a decrease back; the stabilization window does.
            desired = Math.max(desired, 0);
        }
        desired = Math.max(Math.max(s.minReplicas(), 1), Math.min(s.maxReplicas(), desired));
        if (desired != current) {
            setReplicas(t, desired);
        }
    }

    private void setReplicas(int t, int target) {
        int change = target - replicas;
        if (change > 0) {
            for (int i = 0; i < change; i++) {
                podReadyAt.add(t + s.podReadySeconds());
            }
        } else {
            // the newest pods go first (a scale-in removes the least long-running, as a ReplicaSet prefers
            // not-ready and recently created pods)
            for (int i = 0; i < -change; i++) {
                podReadyAt.remove(podReadyAt.size() - 1);
            }
        }
        scaleEvents.add(new double[] {t, change});
        scaleEvents.removeIf(e -> e[0] <= t - 60);
        replicas = target;
    }

    /** Serves {@code capacity} messages, oldest first, recording each served cohort's wait. */
    private void serve(int t, double capacity, List<double[]> windowWaits, List<double[]> allWaits) {
        double left = capacity;
        while (left > 1e-9 && !cohorts.isEmpty()) {
            double[] c = cohorts.peekFirst();
            double take = Math.min(left, c[1]);
            double[] w = {t - c[0], take};
            windowWaits.add(w);
            allWaits.add(w);
            c[1] -= take;
            queued -= take;
            left -= take;
            if (c[1] <= 1e-9) {
                cohorts.removeFirst();
            }
        }
    }

    /** The 99th percentile of weighted waits (0 when there are none). */
    static double p99(List<double[]> waits) {
        double total = 0;
        for (double[] w : waits) {
            total += w[1];
        }
        if (total <= 0) {
            return 0;
        }
        double[][] sorted = waits.toArray(new double[0][]);
        Arrays.sort(sorted, (a, b) -> Double.compare(a[0], b[0]));
        double cumulative = 0;
        for (double[] w : sorted) {
            cumulative += w[1];
            if (cumulative >= 0.99 * total - 1e-9) {
                return w[0];
            }
        }
        return sorted[sorted.length - 1][0];
    }
}
