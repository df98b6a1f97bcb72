package dev.nearline.examples.keda;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What the guide deploys, read from its own files and mapped onto this machine the way a container runtime
 * and the kubelet would: the Dockerfile's {@code COPY} lines say where each path of the image comes from
 * ({@code /app/worker.jar} is {@code target/image/app/worker.jar}), its exec-form {@code ENTRYPOINT} is the
 * command, and a Deployment's volumes become folders (a ConfigMap's keys written as files, an emptyDir a new
 * folder) so that its environment's paths point into them. Nothing here is invented: a path that the
 * Dockerfile or the manifests do not map fails the test.
 */
final class GuideLayout {
    static final Path MODULE = Path.of("").toAbsolutePath();
    static final Path K8S = MODULE.resolve("k8s");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final YAMLMapper YAML = new YAMLMapper();

    /** Container path → host path, from the Dockerfile's COPY lines (longest prefix wins). */
    final Map<String, Path> copies = new LinkedHashMap<>();
    final List<String> entrypoint = new ArrayList<>();

    GuideLayout(Path dockerfile) throws IOException {
        for (String line : Files.readAllLines(dockerfile)) {
            String l = line.strip();
            if (l.startsWith("COPY ")) {
                String[] parts = l.substring(5).strip().split("\\s+");
                if (parts.length != 2) {
                    throw new IllegalStateException("COPY with other than one source and one target: " + l);
                }
                copies.put(parts[1], MODULE.resolve(parts[0]));
            } else if (l.startsWith("ENTRYPOINT ")) {
                JSON.readTree(l.substring("ENTRYPOINT ".length())).forEach(a -> entrypoint.add(a.asText()));
            }
        }
        if (entrypoint.isEmpty()) {
            throw new IllegalStateException(dockerfile + " has no exec-form ENTRYPOINT");
        }
    }

    /** The host file behind {@code containerPath} in the image. */
    Path image(String containerPath) {
        String best = null;
        for (String target : copies.keySet()) {
            String bare = target.endsWith("/") ? target.substring(0, target.length() - 1) : target;
            if ((containerPath.equals(bare) || containerPath.startsWith(bare + "/"))
                    && (best == null || target.length() > best.length())) {
                best = target;
            }
        }
        if (best == null) {
            throw new IllegalStateException("the image has nothing at " + containerPath + " (no COPY maps it)");
        }
        String rest = containerPath.substring(Math.min(containerPath.length(), best.length()));
        Path base = copies.get(best);
        return rest.isEmpty() || rest.equals("/") ? base : base.resolve(rest.startsWith("/") ? rest.substring(1) : rest);
    }

    /**
     * The entry point as a host command: {@code java} from this JDK, and every argument that is an image path
     * (or a {@code -Dkey=} whose value is one) mapped to the host.
     */
    List<String> command() {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String a : entrypoint.subList(1, entrypoint.size())) {
            int eq = a.indexOf("=/");
            if (a.startsWith("/")) {
                cmd.add(image(a).toString());
            } else if (a.startsWith("-D") && eq > 0) {
                cmd.add(a.substring(0, eq + 1) + image(a.substring(eq + 1)));
            } else {
                cmd.add(a);
            }
        }
        return cmd;
    }

    static List<JsonNode> documents(String file) {
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(K8S.resolve(file).toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            for (JsonNode d : it.readAll()) {
                if (d != null && !d.isEmpty()) {
                    docs.add(d);
                }
            }
            return docs;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static JsonNode object(String file, String kind) {
        return documents(file).stream().filter(d -> kind.equals(d.path("kind").asText())).findFirst()
                .orElseThrow(() -> new IllegalStateException(file + " has no " + kind));
    }

    static JsonNode object(String file, String kind, String name) {
        return documents(file).stream().filter(d -> kind.equals(d.path("kind").asText())
                        && name.equals(d.at("/metadata/name").asText())).findFirst()
                .orElseThrow(() -> new IllegalStateException(file + " has no " + kind + " " + name));
    }

    /**
     * The pod of {@code deployment} on this machine: its volumes as folders under {@code root} (ConfigMaps
     * from {@code configMaps}, with image paths inside a pipeline's steps mapped through this layout), and
     * its container's environment with mounted paths mapped; {@code secrets} resolves secretKeyRefs.
     */
    Map<String, String> environment(JsonNode deployment, Path root, Map<String, JsonNode> configMaps,
                                    Map<String, String> secrets) throws IOException {
        JsonNode spec = deployment.at("/spec/template/spec");
        JsonNode container = spec.at("/containers/0");
        Map<String, Path> volumes = new LinkedHashMap<>();
        for (JsonNode v : spec.path("volumes")) {
            Path dir = Files.createDirectories(root.resolve(v.get("name").asText()));
            volumes.put(v.get("name").asText(), dir);
            if (v.has("configMap")) {
                String name = v.at("/configMap/name").asText();
                JsonNode cm = configMaps.get(name);
                if (cm == null) {
                    throw new IllegalStateException("no ConfigMap " + name);
                }
                for (var e : cm.path("data").properties()) {
                    Files.writeString(dir.resolve(e.getKey()), mapPipeline(e.getValue().asText()));
                }
            }
        }
        Map<String, Path> mounts = new LinkedHashMap<>();
        for (JsonNode m : container.path("volumeMounts")) {
            mounts.put(m.get("mountPath").asText(), volumes.get(m.get("name").asText()));
        }
        Map<String, String> env = new LinkedHashMap<>();
        for (JsonNode e : container.path("env")) {
            String name = e.get("name").asText();
            if (e.has("value")) {
                String value = e.get("value").asText();
                for (var m : mounts.entrySet()) {
                    if (value.startsWith(m.getKey() + "/")) {
                        value = m.getValue().resolve(value.substring(m.getKey().length() + 1)).toString();
                        break;
                    }
                }
                env.put(name, value);
            } else {
                String ref = e.at("/valueFrom/secretKeyRef/name").asText() + "/" + e.at("/valueFrom/secretKeyRef/key").asText();
                String value = secrets.get(ref);
                if (value == null) {
                    throw new IllegalStateException("no test value for secret " + ref + " (env " + name + ")");
                }
                env.put(name, value);
            }
        }
        return env;
    }

    /** A pipeline file with each step's absolute {@code path} (an image path such as /models/...) mapped. */
    private String mapPipeline(String text) throws IOException {
        JsonNode pipeline = JSON.readTree(text);
        for (JsonNode step : pipeline.path("steps")) {
            String path = step.path("path").asText("");
            if (path.startsWith("/")) {
                ((ObjectNode) step).put("path", image(path).toString());
            }
        }
        return JSON.writeValueAsString(pipeline);
    }
}
