package dev.nearline.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonTreesTest {
    private static final JsonFactory FACTORY = new JsonFactory();

    private static JsonNode read(JsonFactory factory, String json) throws IOException {
        try (JsonParser p = factory.createParser(json)) {
            p.nextToken();
            return JsonTrees.read(p);
        }
    }

    @Test
    void read_everyKindOfValue_sameTreeAndNodeTypesAsObjectMapper() throws IOException {
        ObjectMapper mapper = new ObjectMapper();
        for (String json : List.of(
                "{\"a\": 1, \"b\": 4000000000, \"c\": 123456789012345678901234567890, \"d\": 1.5, \"e\": -2e-3,"
                        + " \"f\": \"t\\u00e9xt\", \"g\": true, \"h\": false, \"i\": null,"
                        + " \"j\": [1, [2, {\"k\": []}], {}], \"l\": {\"m\": {\"n\": [null]}}}",
                "[1, 2.0, \"x\"]", "42", "\"alone\"", "{}", "[]", "{\"dup\": 1, \"dup\": 2}")) {
            JsonNode expected = mapper.readTree(json);
            JsonNode actual = read(FACTORY, json);

            assertThat(actual).as(json).isEqualTo(expected);
            assertThat(actual.toString()).as(json).isEqualTo(expected.toString());
            if (actual.isObject()) {
                actual.properties().forEach(e -> assertThat(e.getValue().getNodeType())
                        .isEqualTo(expected.get(e.getKey()).getNodeType()));
                assertThat(actual.path("b").isLong()).isEqualTo(expected.path("b").isLong());
                assertThat(actual.path("c").isBigInteger()).isEqualTo(expected.path("c").isBigInteger());
                assertThat(actual.path("d").isDouble()).isEqualTo(expected.path("d").isDouble());
            }
        }
    }

    @Test
    void read_valueFollowedByMore_stopsOnTheValuesLastToken() throws IOException {
        try (JsonParser p = FACTORY.createParser("{\"a\": [1]} {\"b\": 2}")) {
            p.nextToken();
            assertThat(JsonTrees.read(p).toString()).isEqualTo("{\"a\":[1]}");
            assertThat(p.currentToken()).isEqualTo(JsonToken.END_OBJECT);
            assertThat(p.nextToken()).isEqualTo(JsonToken.START_OBJECT);
        }
    }

    @Test
    void read_deepNesting_buildsTheTreeWithoutRecursion() throws IOException {
        int depth = 900; // below the parser's default nesting limit of 1000
        String json = "[".repeat(depth) + "]".repeat(depth);

        JsonNode node = read(FACTORY, json);

        for (int i = 1; i < depth; i++) {
            node = node.get(0);
        }
        assertThat(node.isArray()).isTrue();
        assertThat(node.size()).isZero();
    }

    @Test
    void read_duplicateKeyUnderStrictParser_failsAsTheParserDoes() {
        JsonFactory strict = JsonFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

        assertThatThrownBy(() -> read(strict, "{\"a\": 1, \"a\": 2}"))
                .isInstanceOf(JsonParseException.class)
                .hasMessageContaining("Duplicate field 'a'");
    }

    @Test
    void read_truncatedInput_failsAsTheParserDoes() {
        assertThatThrownBy(() -> read(FACTORY, "{\"a\": [1, 2")).isInstanceOf(JsonParseException.class);
    }
}
