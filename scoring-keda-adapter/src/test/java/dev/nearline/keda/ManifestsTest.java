package dev.nearline.keda;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.nearline.keda.internal.HttpEndpoints;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Parses every manifest in {@code examples/keda-worker/k8s} and checks the fields that must agree with
 * each other and with the worker: env var names and values the worker accepts, ports and probe paths,
 * the grace period against the drain timeout, the ScaledObject's queue and target against the
 * Deployment, messageCount against the worker's concurrency, and the references between objects.
 */
class ManifestsTest {
    private static final Path K8S = Path.of("..", "examples", "keda-worker", "k8s");
    private static final YAMLMapper YAML = new YAMLMapper();
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
    /** Files that replace the base manifests (deployment.yaml, scaledobject.yaml) rather than add to them. */
    private static final List<String> VARIANTS = List.of("connection-string.yaml", "gpu.yaml", "triton.yaml");
    private static final List<JsonNode> docs = new ArrayList<>();
    /** The file each document came from: a variant file replaces objects of the same name. */
    private static final Map<JsonNode, String> source = new java.util.IdentityHashMap<>();

    @BeforeAll
    static void parse() throws IOException {
        assertThat(K8S).isDirectory();
        try (Stream<Path> files = Files.list(K8S)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).sorted().toList()) {
                try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(f.toFile())) {
                    for (JsonNode d : it.readAll()) {
                        if (d != null && !d.isEmpty()) {
                            docs.add(d);
                            source.put(d, f.getFileName().toString());
                        }
                    }
                }
            }
        }
    }

    private static List<JsonNode> kind(String kind) {
        return docs.stream().filter(d -> kind.equals(d.path("kind").asText())).toList();
    }

    /** The object of {@code kind} and {@code name}, preferring one from the same file as {@code from}. */
    private static JsonNode named(String kind, String name, JsonNode from) {
        List<JsonNode> all = kind(kind).stream().filter(d -> name.equals(d.at("/metadata/name").asText())).toList();
        return all.stream().filter(d -> source.get(d).equals(source.get(from))).findFirst()
                .or(() -> all.stream().filter(d -> !VARIANTS.contains(source.get(d))).findFirst())
                .orElseThrow(() -> new AssertionError("no " + kind + " named " + name));
    }

    private static Map<String, JsonNode> env(JsonNode container) {
        Map<String, JsonNode> env = new HashMap<>();
        container.path("env").forEach(e -> env.put(e.get("name").asText(), e));
        return env;
    }

    private static String value(Map<String, JsonNode> env, String name, String defaultValue) {
        JsonNode e = env.get(name);
        return e == null ? defaultValue : e.path("value").asText();
    }

    @Test
    void manifests_parsed_holdEveryExpectedKind() {
        assertThat(kind("Deployment")).hasSize(4);
        assertThat(kind("ScaledObject")).hasSize(4);
        assertThat(kind("TriggerAuthentication")).hasSize(2);
        assertThat(kind("ServiceAccount")).hasSize(1);
        assertThat(kind("Secret")).hasSize(2);
    }

    @Test
    void deployments_envVarsAreOnesTheWorkerReadsAndItAccepts() {
        for (JsonNode d : kind("Deployment")) {
            JsonNode c = d.at("/spec/template/spec/containers/0");
            Map<String, JsonNode> env = env(c);
            assertThat(env.keySet()).as(d.at("/metadata/name").asText()).isSubsetOf(WorkerConfig.VARIABLES);
            Map<String, String> values = new HashMap<>();
            // A value from a secret stands in with the form the worker checks (connection strings are parsed).
            env.forEach((k, v) -> values.put(k, v.has("value") ? v.get("value").asText()
                    : k.equals("SERVICEBUS_CONNECTION_STRING")
                    ? "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=worker;SharedAccessKey=from-secret"
                    : k.equals(BlobPayloadStore.CONNECTION_STRING) ? "AccountName=acct;AccountKey=ZnJvbS1zZWNyZXQ="
                    : "from-secret"));
            WorkerConfig config = WorkerConfig.fromEnvironment(values); // throws naming any bad one
            assertThat(config.httpPort()).isEqualTo(c.at("/ports/0/containerPort").asInt());
        }
    }

    @Test
    void deployments_probesPortsAndScrapeAnnotationsMatchTheWorker() {
        for (JsonNode d : kind("Deployment")) {
            JsonNode pod = d.at("/spec/template");
            JsonNode c = pod.at("/spec/containers/0");
            int port = Integer.parseInt(value(env(c), "NEARLINE_HTTP_PORT", Integer.toString(WorkerConfig.DEFAULT_HTTP_PORT)));
            assertThat(c.at("/ports/0/containerPort").asInt()).isEqualTo(port);
            assertThat(c.at("/ports/0/name").asText()).isEqualTo("http");
            assertThat(c.at("/readinessProbe/httpGet/path").asText()).isEqualTo(HttpEndpoints.READY);
            assertThat(c.at("/livenessProbe/httpGet/path").asText()).isEqualTo(HttpEndpoints.LIVE);
            assertThat(c.at("/startupProbe/httpGet/path").asText()).isEqualTo(HttpEndpoints.LIVE);
            for (String probe : List.of("readinessProbe", "livenessProbe", "startupProbe")) {
                assertThat(c.at("/" + probe + "/httpGet/port").asText()).isEqualTo("http");
            }
            JsonNode annotations = pod.at("/metadata/annotations");
            assertThat(annotations.path("prometheus.io/port").asText()).isEqualTo(Integer.toString(port));
            assertThat(annotations.path("prometheus.io/path").asText()).isEqualTo(HttpEndpoints.METRICS);
            assertThat(d.at("/spec/selector/matchLabels/app").asText()).isEqualTo(pod.at("/metadata/labels/app").asText());
        }
    }

    @Test
    void deployments_gracePeriodCoversTheDrainTimeoutWithMarginAndTheWorkersOwn() {
        for (JsonNode d : kind("Deployment")) {
            JsonNode c = d.at("/spec/template/spec/containers/0");
            long drainMs = Long.parseLong(value(env(c), "NEARLINE_DRAIN_TIMEOUT_MS",
                    Long.toString(WorkerConfig.DEFAULT_DRAIN_TIMEOUT.toMillis())));
            long grace = d.at("/spec/template/spec/terminationGracePeriodSeconds").asLong(30);
            assertThat(grace * 1000).as(d.at("/metadata/name").asText()).isGreaterThanOrEqualTo(drainMs + 5000);
            // the worker plans its shutdown within its own grace period: it must not be longer than the pod's
            long workerGraceMs = Long.parseLong(value(env(c), "NEARLINE_GRACE_PERIOD_MS",
                    Long.toString(WorkerConfig.DEFAULT_GRACE_PERIOD.toMillis())));
            assertThat(workerGraceMs).as(d.at("/metadata/name").asText()).isLessThanOrEqualTo(grace * 1000);
        }
    }

    @Test
    void deployments_pipelineComesFromAMountedConfigMapThatParses() throws IOException {
        for (JsonNode d : kind("Deployment")) {
            JsonNode spec = d.at("/spec/template/spec");
            JsonNode c = spec.at("/containers/0");
            Path pipeline = Path.of(value(env(c), "NEARLINE_PIPELINE", ""));
            JsonNode mount = null;
            for (JsonNode m : c.path("volumeMounts")) {
                if (pipeline.startsWith(m.get("mountPath").asText())) {
                    mount = m;
                }
            }
            assertThat(mount).as("a volume mounted over %s", pipeline).isNotNull();
            String volume = mount.get("name").asText();
            JsonNode configMapName = null;
            for (JsonNode v : spec.path("volumes")) {
                if (volume.equals(v.get("name").asText())) {
                    configMapName = v.at("/configMap/name");
                }
            }
            assertThat(configMapName).isNotNull();
            JsonNode data = named("ConfigMap", configMapName.asText(), d).path("data");
            String key = pipeline.getFileName().toString();
            assertThat(data.has(key)).as("ConfigMap key %s", key).isTrue();
            JsonNode json = JSON.readTree(data.get(key).asText());
            assertThat(json.path("steps")).isNotEmpty();
            boolean gpu = c.at("/resources/limits").has("nvidia.com/gpu");
            boolean cuda = json.at("/steps/0/device").asText().equals("cuda");
            assertThat(gpu).as("GPU limit iff the pipeline runs on CUDA in %s", d.at("/metadata/name").asText())
                    .isEqualTo(cuda);
        }
    }

    @Test
    void scaledObjects_targetADeploymentOnItsQueueWithAMessageCountAPodCanHold() {
        for (JsonNode so : kind("ScaledObject")) {
            JsonNode d = named("Deployment", so.at("/spec/scaleTargetRef/name").asText(), so);
            Map<String, JsonNode> env = env(d.at("/spec/template/spec/containers/0"));
            JsonNode trigger = so.at("/spec/triggers/0");
            assertThat(trigger.get("type").asText()).isEqualTo("azure-servicebus");
            assertThat(trigger.at("/metadata/queueName").asText()).isEqualTo(value(env, "NEARLINE_REQUEST_QUEUE", null));
            // The target is what a busy pod holds (see the guide's capacity section); a pod can never hold more
            // than its in-flight limit, so a larger target would leave pods starved of work before scaling out.
            int maxInFlight = Integer.parseInt(value(env, "NEARLINE_MAX_IN_FLIGHT", Integer.toString(
                    2 * Integer.parseInt(value(env, "NEARLINE_CONCURRENCY", "2"))
                            * Integer.parseInt(value(env, "NEARLINE_BATCH_MAX", "32")))));
            assertThat(Integer.parseInt(trigger.at("/metadata/messageCount").asText())).as(so.at("/metadata/name").asText())
                    .isBetween(1, maxInFlight);
            assertThat(trigger.at("/metadata/activationMessageCount").asText()).isEqualTo("0");
            JsonNode auth = named("TriggerAuthentication", trigger.at("/authenticationRef/name").asText(), so);
            if (auth.at("/spec/podIdentity/provider").asText().equals("azure-workload")) {
                String ns = value(env, "SERVICEBUS_NAMESPACE", "");
                assertThat(ns).as("workload identity needs SERVICEBUS_NAMESPACE").isNotEmpty();
                assertThat(ns).startsWith(trigger.at("/metadata/namespace").asText() + ".");
                JsonNode pod = d.at("/spec/template");
                assertThat(pod.at("/metadata/labels/azure.workload.identity~1use").asText()).isEqualTo("true");
                named("ServiceAccount", pod.at("/spec/serviceAccountName").asText(), so);
            } else {
                // Least privilege: KEDA's secret (Manage, to read queue counts) is not the worker's (Listen + Send)
                JsonNode ref = auth.at("/spec/secretTargetRef/0");
                assertThat(ref.get("parameter").asText()).isEqualTo("connection");
                JsonNode secretRef = env.get("SERVICEBUS_CONNECTION_STRING").at("/valueFrom/secretKeyRef");
                assertThat(secretRef.get("name").asText()).as("the worker must not read KEDA's Manage secret")
                        .isNotEqualTo(ref.get("name").asText());
                String kedaConnection = named("Secret", ref.get("name").asText(), so).at("/stringData")
                        .path(ref.get("key").asText()).asText();
                String workerConnection = named("Secret", secretRef.get("name").asText(), so).at("/stringData")
                        .path(secretRef.get("key").asText()).asText();
                assertThat(kedaConnection).contains("SharedAccessKeyName=");
                assertThat(workerConnection).contains("SharedAccessKeyName=");
                assertThat(keyName(workerConnection)).isNotEqualTo(keyName(kedaConnection));
            }
        }
    }

    private static String keyName(String connectionString) {
        for (String part : connectionString.split(";")) {
            if (part.startsWith("SharedAccessKeyName=")) {
                return part.substring("SharedAccessKeyName=".length());
            }
        }
        throw new AssertionError("no SharedAccessKeyName in a connection string");
    }

    @Test
    void deployments_runNonRootOnAReadOnlyRootWithNoPrivilegeAndAWritableTmp() {
        for (JsonNode d : kind("Deployment")) {
            String name = d.at("/metadata/name").asText();
            JsonNode spec = d.at("/spec/template/spec");
            assertThat(spec.at("/securityContext/runAsNonRoot").asBoolean()).as(name).isTrue();
            assertThat(spec.at("/securityContext/runAsUser").asInt()).as(name).isPositive();
            assertThat(spec.at("/securityContext/seccompProfile/type").asText()).as(name).isEqualTo("RuntimeDefault");
            JsonNode c = spec.at("/containers/0");
            JsonNode sc = c.path("securityContext");
            assertThat(sc.path("allowPrivilegeEscalation").isBoolean() && !sc.path("allowPrivilegeEscalation").asBoolean())
                    .as(name + " allowPrivilegeEscalation: false").isTrue();
            assertThat(sc.path("readOnlyRootFilesystem").asBoolean()).as(name).isTrue();
            assertThat(sc.at("/capabilities/drop").toString()).as(name).isEqualTo("[\"ALL\"]");
            assertThat(sc.has("capabilities") && !sc.at("/capabilities").has("add")).as(name + " adds no capability").isTrue();
            String tmpVolume = null;
            for (JsonNode m : c.path("volumeMounts")) {
                if (m.path("mountPath").asText().equals("/tmp")) {
                    tmpVolume = m.path("name").asText();
                }
            }
            assertThat(tmpVolume).as(name + " mounts a writable /tmp").isNotNull();
            boolean emptyDir = false;
            for (JsonNode v : spec.path("volumes")) {
                if (v.path("name").asText().equals(tmpVolume)) {
                    emptyDir = v.has("emptyDir");
                }
            }
            assertThat(emptyDir).as(name + " /tmp is an emptyDir").isTrue();
        }
    }
}
