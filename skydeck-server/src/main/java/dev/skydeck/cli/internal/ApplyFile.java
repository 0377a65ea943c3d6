package dev.skydeck.cli.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import dev.skydeck.SkyDeckException;
import dev.skydeck.server.internal.Json;
import java.io.IOException;

/**
 * The file {@code skydeck apply} reads: YAML or JSON, a list of experiment objects (the fields of
 * {@code POST /api/experiments}) or an object holding them under {@code experiments}. Numbers keep
 * their type as written ({@code 3.0} stays a decimal).
 */
final class ApplyFile {
    private static final YAMLMapper YAML = new YAMLMapper();

    private ApplyFile() {
    }

    /** The list of experiment objects in {@code bytes}, read from {@code name}. */
    static JsonNode read(String name, byte[] bytes) {
        JsonNode doc;
        try {
            doc = name.endsWith(".json") ? Json.MAPPER.readTree(bytes) : YAML.readTree(bytes);
        } catch (IOException e) {
            throw new SkyDeckException.InvalidInput(name + " is not valid " + (name.endsWith(".json") ? "JSON" : "YAML")
                    + ": " + e.getMessage().lines().findFirst().orElse(""));
        }
        if (doc != null && doc.isObject() && doc.has("experiments")) {
            doc = doc.get("experiments");
        }
        if (doc == null || !doc.isArray()) {
            throw new SkyDeckException.InvalidInput(name + " must hold a list of experiments (or {experiments: [...]}),"
                    + " each with at least a name");
        }
        return doc;
    }
}
