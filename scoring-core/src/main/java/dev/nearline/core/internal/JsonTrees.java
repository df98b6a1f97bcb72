package dev.nearline.core.internal;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * Reads a JSON value from a streaming parser into a tree, with the node types {@code ObjectMapper.readTree}
 * gives with default settings (int, long or big integer by size; double for text floats; a later duplicate key
 * replaces an earlier one unless the parser refuses duplicates). Without an {@code ObjectMapper}: building one
 * costs a cold start tens of milliseconds of class loading (its configuration and deserializer machinery), and
 * pipeline files and JSON records need only the tree. The parser enforces its own limits (depth, lengths).
 * Iterative, so deep nesting cannot overflow the stack. Stateless.
 */
final class JsonTrees {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private JsonTrees() {
    }

    /**
     * The value that starts at the parser's current token (the caller has called {@code nextToken()}); leaves the
     * parser on the value's last token.
     *
     * @throws IOException as the parser does, for malformed input or a limit exceeded
     */
    static JsonNode read(JsonParser p) throws IOException {
        ArrayDeque<JsonNode> open = new ArrayDeque<>();
        JsonNode root = null;
        String field = null;
        for (JsonToken t = p.currentToken(); t != null; t = p.nextToken()) {
            JsonNode value;
            switch (t) {
                case FIELD_NAME:
                    field = p.currentName();
                    continue;
                case END_OBJECT:
                case END_ARRAY:
                    JsonNode closed = open.pop();
                    if (open.isEmpty()) {
                        return closed;
                    }
                    continue;
                case START_OBJECT:
                    value = NODES.objectNode();
                    break;
                case START_ARRAY:
                    value = NODES.arrayNode();
                    break;
                case VALUE_STRING:
                    value = NODES.textNode(p.getText());
                    break;
                case VALUE_NUMBER_INT:
                    value = integer(p);
                    break;
                case VALUE_NUMBER_FLOAT:
                    value = floating(p);
                    break;
                case VALUE_TRUE:
                    value = NODES.booleanNode(true);
                    break;
                case VALUE_FALSE:
                    value = NODES.booleanNode(false);
                    break;
                case VALUE_NULL:
                    value = NODES.nullNode();
                    break;
                default: // VALUE_EMBEDDED_OBJECT, NOT_AVAILABLE: not produced by a JSON text parser
                    value = NODES.pojoNode(p.getEmbeddedObject());
                    break;
            }
            JsonNode parent = open.peek();
            if (parent == null) {
                root = value;
            } else if (parent instanceof ObjectNode) {
                ((ObjectNode) parent).set(requireField(field), value);
            } else {
                ((ArrayNode) parent).add(value);
            }
            if (value.isContainerNode()) {
                open.push(value);
            } else if (parent == null) {
                return value;
            }
        }
        if (root == null) {
            throw new IllegalStateException("no JSON value at the parser's current token");
        }
        return root; // the input ended inside a container: the parser reports that on the next token
    }

    private static String requireField(@Nullable String field) {
        if (field == null) {
            throw new IllegalStateException("a value inside an object without a field name");
        }
        return field;
    }

    private static JsonNode integer(JsonParser p) throws IOException {
        switch (p.getNumberType()) {
            case INT:
                return NODES.numberNode(p.getIntValue());
            case LONG:
                return NODES.numberNode(p.getLongValue());
            default:
                return NODES.numberNode(p.getBigIntegerValue());
        }
    }

    private static JsonNode floating(JsonParser p) throws IOException {
        switch (p.getNumberTypeFP()) {
            case BIG_DECIMAL:
                return NODES.numberNode(p.getDecimalValue());
            case FLOAT32:
                return NODES.numberNode(p.getFloatValue());
            default:
                return NODES.numberNode(p.getDoubleValue());
        }
    }
}
