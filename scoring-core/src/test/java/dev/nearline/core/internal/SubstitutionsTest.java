package dev.nearline.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SubstitutionsTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String TOKEN = "tok-3f9a1c77e2";
    private static final Map<String, String> ENV = Map.of("TRITON_TOKEN", TOKEN, "HOST", "triton",
            "NESTED", "${env:HOST}", "EMPTY", "");

    @TempDir
    Path dir;

    private Substitutions substitutions() {
        return new Substitutions(ENV::get, dir);
    }

    private static JsonNode tree(String json) throws Exception {
        return JSON.readTree(json);
    }

    @Test
    void resolve_envWholeAndEmbedded_replacedAndMarkedSensitive() throws Exception {
        JsonNode root = tree("{\"a\": {\"token\": \"${env:TRITON_TOKEN}\", \"url\": \"http://${env:HOST}:8000\","
                + " \"list\": [\"x\", \"Bearer ${env:TRITON_TOKEN}\"], \"plain\": \"no refs\", \"n\": 1}}");

        Substitutions.Resolved r = substitutions().resolve(root);

        assertThat(root.at("/a/token").textValue()).isEqualTo(TOKEN);
        assertThat(root.at("/a/url").textValue()).isEqualTo("http://triton:8000");
        assertThat(root.at("/a/list/1").textValue()).isEqualTo("Bearer " + TOKEN);
        assertThat(r.count()).isEqualTo(3);
        assertThat(r.isSensitive(root.at("/a/token"))).isTrue();
        assertThat(r.isSensitive(root.at("/a/list/1"))).isTrue();
        assertThat(r.isSensitive(root.at("/a/plain"))).isFalse();
        assertThat(r.isSensitive(root.at("/a/list/0"))).isFalse();
    }

    @Test
    void resolve_fileReference_readsFileWithoutTrailingLineBreaks() throws Exception {
        Path secret = dir.resolve("token");
        Files.writeString(secret, TOKEN + "\r\n\n", StandardCharsets.UTF_8);
        JsonNode root = tree("{\"abs\": \"${file:" + secret.toString().replace("\\", "\\\\") + "}\","
                + " \"rel\": \"${file:token}\"}");

        substitutions().resolve(root);

        assertThat(root.get("abs").textValue()).isEqualTo(TOKEN);
        assertThat(root.get("rel").textValue()).isEqualTo(TOKEN);
    }

    @Test
    void resolve_escapeAndLoneDollar_keptLiterallyAndNotSensitive() throws Exception {
        JsonNode root = tree("{\"a\": \"cost $5, literal $${env:HOST} and $\", \"b\": \"$$\"}");

        Substitutions.Resolved r = substitutions().resolve(root);

        assertThat(root.get("a").textValue()).isEqualTo("cost $5, literal ${env:HOST} and $");
        assertThat(root.get("b").textValue()).isEqualTo("$$");
        assertThat(r.isSensitive(root.get("a"))).isFalse();
    }

    @Test
    void resolve_valueHoldingAReference_notExpandedAgain() throws Exception {
        JsonNode root = tree("{\"a\": \"${env:NESTED}\", \"e\": \"${env:EMPTY}\"}");

        substitutions().resolve(root);

        assertThat(root.get("a").textValue()).isEqualTo("${env:HOST}");
        assertThat(root.get("e").textValue()).isEmpty();
    }

    @Test
    void resolve_keys_neverSubstituted() throws Exception {
        JsonNode root = tree("{\"${env:HOST}\": 1}");

        substitutions().resolve(root);

        assertThat(root.has("${env:HOST}")).isTrue();
    }

    @Test
    void resolve_missingVariable_failsNamingPathAndVariable() throws Exception {
        JsonNode root = tree("{\"steps\": [{\"bearerToken\": \"${env:NOT_SET}\"}]}");

        assertThatThrownBy(() -> substitutions().resolve(root)).isInstanceOf(ConfigException.class)
                .hasMessage("$.steps[0].bearerToken: environment variable 'NOT_SET' is not set");
    }

    @Test
    void resolve_missingOrUnreadableFile_failsNamingPathAndFileNotValue() throws Exception {
        JsonNode missing = tree("{\"p\": \"${file:nope}\"}");
        Files.createDirectory(dir.resolve("adir"));
        JsonNode directory = tree("{\"p\": \"${file:adir}\"}");
        Files.write(dir.resolve("big"), new byte[Substitutions.MAX_FILE_BYTES + 1]);
        JsonNode big = tree("{\"p\": \"${file:big}\"}");
        Files.write(dir.resolve("bin"), new byte[] {(byte) 0xff, (byte) 0xfe});
        JsonNode binary = tree("{\"p\": \"${file:bin}\"}");

        assertThatThrownBy(() -> substitutions().resolve(missing))
                .hasMessage("$.p: secret file " + dir.resolve("nope") + " does not exist");
        assertThatThrownBy(() -> substitutions().resolve(directory))
                .hasMessageStartingWith("$.p: cannot read secret file " + dir.resolve("adir") + " (");
        assertThatThrownBy(() -> substitutions().resolve(big)).hasMessageContaining("is larger than 65536 bytes");
        assertThatThrownBy(() -> substitutions().resolve(binary)).hasMessageEndingWith("is not UTF-8 text");
    }

    @Test
    void resolve_malformedReferences_failWithTheAcceptedForms() throws Exception {
        assertThatThrownBy(() -> substitutions().resolve(tree("{\"p\": \"a ${env:HOST\"}")))
                .hasMessageStartingWith("$.p: unterminated reference at character 3; expected ${env:NAME} or ${file:PATH}");
        assertThatThrownBy(() -> substitutions().resolve(tree("{\"p\": \"${vault:kv/x}\"}")))
                .hasMessageStartingWith("$.p: unsupported reference '${vault:...}'");
        assertThatThrownBy(() -> substitutions().resolve(tree("{\"p\": \"${HOST}\"}")))
                .hasMessageStartingWith("$.p: unsupported reference '${HOST}'");
        assertThatThrownBy(() -> substitutions().resolve(tree("{\"p\": \"${env:A-B}\"}")))
                .hasMessageStartingWith("$.p: '${env:A-B}' does not name an environment variable");
        assertThatThrownBy(() -> substitutions().resolve(tree("{\"p\": \"${file:}\"}")))
                .hasMessageStartingWith("$.p: '${file:}' names no file");
    }

    @Test
    void resolve_noReferences_returnsNone() throws Exception {
        assertThat(substitutions().resolve(tree("{\"a\": [1, \"x\", {\"b\": null}]}")))
                .isSameAs(Substitutions.Resolved.NONE);
    }
}
