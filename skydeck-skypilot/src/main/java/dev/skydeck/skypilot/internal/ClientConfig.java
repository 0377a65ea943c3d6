package dev.skydeck.skypilot.internal;

import dev.skydeck.SkyDeckException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SkyPilot client config, loaded as the official client loads it
 * ({@code sky/skypilot_config.py}): the user file ({@code SKYPILOT_GLOBAL_CONFIG}, which must
 * exist when set, else {@code ~/.sky/config.yaml}) with the project file
 * ({@code SKYPILOT_PROJECT_CONFIG}, likewise, else {@code ./.sky.yaml}) laid over it — a key in
 * the project file wins, nested mappings merge, anything else is replaced; {@code kubernetes}
 * {@code pod_config} and {@code custom_metadata} merge as Kubernetes patches do. With the internal
 * {@code SKYPILOT_CONFIG} set, that file alone. Each file's {@code db} is dropped on reading (it
 * holds a database URL), and what is sent to the server ({@link #override()}) drops
 * {@code api_server} (the client's own endpoint and token) and {@code admin_policy} (applied on
 * the client), as {@code get_override_skypilot_config_from_client} does.
 *
 * @param merged  the merged config
 * @param sources the files it came from, for messages
 */
public record ClientConfig(Map<String, Object> merged, List<Path> sources) {
    /** Keys never sent to the server. */
    private static final Set<String> CLIENT_ONLY = Set.of("api_server", "admin_policy");
    /** Kubernetes list fields merged by a key (or replaced, when null), as {@code config_utils._PATCH_MERGE_KEYS}. */
    private static final Map<String, String> PATCH_MERGE_KEYS = patchMergeKeys();

    /** Freezes the list of sources (the merged map is this class's own copy). */
    public ClientConfig {
        sources = List.copyOf(sources);
    }

    private static Map<String, String> patchMergeKeys() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String k : List.of("containers", "initContainers", "ephemeralContainers", "volumes", "resourceClaims", "env",
                "claims")) {
            m.put(k, "name");
        }
        m.put("volumeMounts", "mountPath");
        m.put("hostAliases", "ip");
        m.put("topologySpreadConstraints", "topologyKey");
        m.put("ports", "containerPort");
        m.put("volumeDevices", "devicePath");
        m.put("args", null);
        m.put("command", null);
        return m;
    }

    /** Loads the config for this environment, home and working directory. */
    public static ClientConfig load(Map<String, String> env, Path home, Path workdir) {
        String internal = env.get("SKYPILOT_CONFIG");
        if (internal != null) {
            Path file = expand(internal, home);
            if (!Files.isRegularFile(file)) {
                throw new SkyDeckException.InvalidInput("SKYPILOT_CONFIG=" + internal + " names no file: fix the path or"
                        + " unset it");
            }
            return new ClientConfig(read(file), List.of(file));
        }
        List<Path> sources = new ArrayList<>();
        Map<String, Object> merged = new LinkedHashMap<>();
        Path user = resolve(env, "SKYPILOT_GLOBAL_CONFIG", home.resolve(".sky").resolve("config.yaml"), home);
        Path project = resolve(env, "SKYPILOT_PROJECT_CONFIG", workdir.resolve(".sky.yaml"), home);
        for (Path p : new Path[] {user, project}) {
            if (p != null) {
                overlay(merged, read(p));
                sources.add(p);
            }
        }
        return new ClientConfig(merged, sources);
    }

    private static Path resolve(Map<String, String> env, String variable, Path fallback, Path home) {
        String set = env.get(variable);
        if (set != null) {
            Path file = expand(set, home);
            if (!Files.isRegularFile(file)) {
                throw new SkyDeckException.InvalidInput("the SkyPilot config file named by " + variable + " (" + set
                        + ") does not exist: fix the path or unset " + variable);
            }
            return file;
        }
        return Files.isRegularFile(fallback) ? fallback : null;
    }

    private static Path expand(String path, Path home) {
        String p = path.strip();
        return p.equals("~") ? home : p.startsWith("~/") ? home.resolve(p.substring(2)) : Path.of(p);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> read(Path file) {
        Object doc;
        try {
            doc = PyYaml.load(Files.readString(file, StandardCharsets.UTF_8));
        } catch (IOException | RuntimeException e) {
            throw new SkyDeckException.InvalidInput("cannot read the SkyPilot config " + file + ": " + e.getMessage());
        }
        if (doc == null) {
            return new LinkedHashMap<>();
        }
        if (!(doc instanceof Map<?, ?> m)) {
            throw new SkyDeckException.InvalidInput("the SkyPilot config " + file + " must be a YAML mapping");
        }
        Map<String, Object> config = new LinkedHashMap<>();
        ((Map<Object, Object>) m).forEach((k, v) -> config.put(String.valueOf(k), v));
        config.remove("db");
        return config;
    }

    /** Lays {@code override} over {@code base} in place ({@code config_utils._recursive_update}). */
    @SuppressWarnings("unchecked")
    static void overlay(Map<String, Object> base, Map<String, Object> override) {
        for (Map.Entry<String, Object> e : override.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            Object current = base.get(key);
            if (key.equals("kubernetes") && current instanceof Map<?, ?> k && value instanceof Map<?, ?> v) {
                Map<String, Object> kube = (Map<String, Object>) k;
                for (Map.Entry<String, Object> ke : ((Map<String, Object>) v).entrySet()) {
                    Object cur = kube.get(ke.getKey());
                    if ((ke.getKey().equals("custom_metadata") || ke.getKey().equals("pod_config"))
                            && cur instanceof Map<?, ?> c && ke.getValue() instanceof Map<?, ?> o) {
                        mergeKubernetes((Map<String, Object>) c, (Map<String, Object>) o);
                    } else if (cur instanceof Map<?, ?> c && ke.getValue() instanceof Map<?, ?> o) {
                        overlay((Map<String, Object>) c, (Map<String, Object>) o);
                    } else {
                        kube.put(ke.getKey(), copy(ke.getValue()));
                    }
                }
            } else if (current instanceof Map<?, ?> c && value instanceof Map<?, ?> v) {
                overlay((Map<String, Object>) c, (Map<String, Object>) v);
            } else {
                base.put(key, copy(value));
            }
        }
    }

    /** {@code config_utils.merge_k8s_configs}: maps merge, lists of named items merge by name, other lists append. */
    @SuppressWarnings("unchecked")
    static void mergeKubernetes(Map<String, Object> base, Map<String, Object> override) {
        for (Map.Entry<String, Object> e : override.entrySet()) {
            String key = e.getKey();
            Object value = e.getValue();
            Object current = base.get(key);
            if (value instanceof Map<?, ?> v && current instanceof Map<?, ?> c) {
                mergeKubernetes((Map<String, Object>) c, (Map<String, Object>) v);
            } else if (value instanceof List<?> v && current instanceof List<?> c) {
                List<Object> list = (List<Object>) c;
                if (key.equals("imagePullSecrets") && !list.isEmpty() && !v.isEmpty()
                        && list.get(0) instanceof Map<?, ?> first && v.get(0) instanceof Map<?, ?> item) {
                    mergeKubernetes((Map<String, Object>) first, (Map<String, Object>) item);
                } else if (PATCH_MERGE_KEYS.containsKey(key)) {
                    String mergeKey = PATCH_MERGE_KEYS.get(key);
                    if (mergeKey == null) {
                        base.put(key, copy(value));
                        continue;
                    }
                    for (Object item : v) {
                        Object name = item instanceof Map<?, ?> im ? im.get(mergeKey) : null;
                        Map<String, Object> existing = null;
                        if (name != null) {
                            for (Object b : list) {
                                if (b instanceof Map<?, ?> bm && name.equals(bm.get(mergeKey))) {
                                    existing = (Map<String, Object>) bm;
                                }
                            }
                        } else if (key.equals("containers") && !list.isEmpty() && list.get(0) instanceof Map<?, ?> f) {
                            existing = (Map<String, Object>) f;
                        }
                        if (existing != null && item instanceof Map<?, ?> im) {
                            mergeKubernetes(existing, (Map<String, Object>) im);
                        } else {
                            list.add(copy(item));
                        }
                    }
                } else {
                    v.forEach(x -> list.add(copy(x)));
                }
            } else {
                base.put(key, copy(value));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Object copy(Object v) {
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<Object, Object>) m).forEach((k, x) -> out.put(String.valueOf(k), copy(x)));
            return out;
        }
        if (v instanceof List<?> l) {
            List<Object> out = new ArrayList<>(l.size());
            l.forEach(x -> out.add(copy(x)));
            return out;
        }
        return v;
    }

    /** A nested value, or {@code null}. */
    public Object get(String... keys) {
        Object cur = merged;
        for (String k : keys) {
            if (!(cur instanceof Map<?, ?> m) || !m.containsKey(k)) {
                return null;
            }
            cur = m.get(k);
        }
        return cur;
    }

    /** A nested non-blank string, or {@code null}. */
    public String text(String... keys) {
        Object v = get(keys);
        return v instanceof String s && !s.isBlank() ? s.strip() : null;
    }

    /** What the official client sends as {@code override_skypilot_config}: the merged config less client-only keys. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> override() {
        Map<String, Object> out = (Map<String, Object>) copy(merged);
        CLIENT_ONLY.forEach(out::remove);
        return out;
    }

    /** The active workspace requests run in ({@code active_workspace}, else SkyPilot's {@code default}). */
    public String activeWorkspace() {
        String w = text("active_workspace");
        return w == null ? "default" : w;
    }
}
