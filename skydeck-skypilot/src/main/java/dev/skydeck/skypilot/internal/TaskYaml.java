package dev.skydeck.skypilot.internal;

import dev.skydeck.CommandLine;
import dev.skydeck.SkyDeckException;
import dev.skydeck.spi.BackendException;
import dev.skydeck.spi.LaunchRequest;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The task YAML of a managed-job launch (SKYPILOT.md §6): a template (built in, the file named by
 * {@code SKYDECK_TASK_TEMPLATE}, or the experiment's own) plus the experiment: {@code name},
 * {@code num_nodes}, {@code resources} (infra, instance type, accelerators, spot, priority),
 * {@code envs}, a git {@code workdir} with the {@code GIT_*} envs and secrets the cluster's clone
 * reads ({@link GitWorkdir}), {@code _metadata} with the launch id, and {@code run} — the command
 * line quoted for a POSIX shell. The template is read and the task written under PyYAML's rules
 * ({@link PyYaml}): every string SkyDeck writes reads back on the server as that string.
 */
public final class TaskYaml {
    /** The built-in template: managed jobs recover from preemption by moving on to the next region. */
    public static final String DEFAULT_TEMPLATE = """
            resources:
              job_recovery:
                strategy: EAGER_NEXT_REGION
            """;
    /** The {@code _metadata} key holding SkyDeck's launch id (the server keeps it as the job's {@code metadata}). */
    public static final String LAUNCH_ID_KEY = "skydeck_launch_id";
    /** SkyPilot's job priority range ({@code sky/skylet/constants.py}). */
    static final int MIN_PRIORITY = -1000;
    static final int MAX_PRIORITY = 1000;

    /**
     * What every launch's task gets besides the experiment.
     *
     * @param template           the template's YAML, or {@code null} for the built-in one
     * @param git                the repository used as the workdir, or {@code null}
     * @param gitToken           a token for a private https repository ({@code GIT_TOKEN}), or {@code null}
     * @param gitSshKey          a private key for an ssh repository ({@code GIT_SSH_KEY}), or {@code null}
     * @param defaultAccelerator the GPU model of a GPU count without one, or {@code null}
     */
    public record Settings(String template, GitWorkdir git, String gitToken, String gitSshKey,
                           String defaultAccelerator) {
        /** Never shows the secrets. */
        @Override
        public String toString() {
            return "Settings[template=" + (template == null ? "built in" : "given") + ", git=" + git + ", gitToken="
                    + (gitToken == null ? "none" : "set") + ", gitSshKey=" + (gitSshKey == null ? "none" : "set")
                    + ", defaultAccelerator=" + defaultAccelerator + "]";
        }
    }

    private TaskYaml() {
    }

    /** Renders the task of one launch. */
    public static String render(LaunchRequest r, Settings s) {
        Map<String, Object> task = template(r.taskTemplate() != null ? r.taskTemplate()
                : s.template() != null ? s.template() : DEFAULT_TEMPLATE, r.experimentName());
        task.put("name", JobNames.of(r.experimentName()));
        task.put("num_nodes", r.nodes());
        Map<String, Object> resources = mapping(task, "resources");
        var res = r.resources();
        if (res.cloud() != null) {
            String infra = res.region() == null ? res.cloud() : res.cloud() + "/" + res.region();
            resources.put("infra", infra.toLowerCase(Locale.ROOT).startsWith("kubernetes")
                    ? "k8s" + infra.substring("kubernetes".length()) : infra);
        }
        if (res.instanceType() != null) {
            resources.put("instance_type", res.instanceType());
        }
        if (r.gpus() > 0) {
            accelerators(r, resources, s.defaultAccelerator());
        }
        if (res.spot()) {
            resources.put("use_spot", true);
        }
        if (r.priority() != 0) { // the experiment's priority; at the default, the template's (or SkyPilot's) stays
            resources.put("priority", Math.max(MIN_PRIORITY, Math.min(MAX_PRIORITY, r.priority())));
        }
        Map<String, Object> envs = mapping(task, "envs");
        envs.putAll(r.env());
        workdir(r, s, task, envs);
        Map<String, Object> metadata = mapping(task, "_metadata");
        metadata.put(LAUNCH_ID_KEY, r.launchId());
        task.put("run", CommandLine.render(r.command()));
        return PyYaml.dump(task);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> template(String yaml, String experiment) {
        Object parsed;
        try {
            parsed = PyYaml.load(yaml);
        } catch (RuntimeException e) {
            throw new SkyDeckException.InvalidInput("the task template of " + experiment + " is not valid YAML: "
                    + e.getMessage());
        }
        if (parsed == null) {
            return new LinkedHashMap<>();
        }
        if (!(parsed instanceof Map<?, ?> m)) {
            throw new SkyDeckException.InvalidInput("the task template of " + experiment
                    + " must be a YAML mapping (name, resources, setup, …)");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        ((Map<Object, Object>) m).forEach((k, v) -> out.put(String.valueOf(k), v));
        return out;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> mapping(Map<String, Object> parent, String key) {
        Object v = parent.get(key);
        if (v instanceof Map<?, ?> m) {
            Map<String, Object> copy = new LinkedHashMap<>();
            ((Map<Object, Object>) m).forEach((k, x) -> copy.put(String.valueOf(k), x));
            parent.put(key, copy);
            return copy;
        }
        Map<String, Object> fresh = new LinkedHashMap<>();
        parent.put(key, fresh);
        return fresh;
    }

    /**
     * {@code accelerators: <model>:<gpus>}. The model: the experiment's (or the one SkyDeck
     * detected from its instance type), else the template's {@code resources.accelerators}
     * (each candidate model gets the experiment's count), else none when an instance type is
     * given (it decides), else {@code SKYDECK_DEFAULT_ACCELERATOR}; with none of these the launch
     * is refused, naming each way to give one.
     */
    private static void accelerators(LaunchRequest r, Map<String, Object> resources, String defaultAccelerator) {
        String model = r.resources().accelerator() == null ? null : r.resources().accelerator().split(":")[0];
        if (model != null) {
            resources.put("accelerators", model + ":" + r.gpus());
            return;
        }
        Object fromTemplate = resources.get("accelerators");
        if (fromTemplate instanceof String t && !t.isBlank()) {
            resources.put("accelerators", t.split(":")[0].strip() + ":" + r.gpus());
            return;
        }
        if (fromTemplate instanceof Map<?, ?> candidates && !candidates.isEmpty()) {
            Map<String, Object> counted = new LinkedHashMap<>();
            candidates.keySet().forEach(k -> counted.put(String.valueOf(k), r.gpus()));
            resources.put("accelerators", counted);
            return;
        }
        if (fromTemplate instanceof List<?> candidates && !candidates.isEmpty()) {
            List<Object> counted = new ArrayList<>();
            candidates.forEach(c -> counted.add(String.valueOf(c).split(":")[0].strip() + ":" + r.gpus()));
            resources.put("accelerators", counted);
            return;
        }
        if (r.resources().instanceType() != null) {
            return;
        }
        if (defaultAccelerator != null) {
            resources.put("accelerators", defaultAccelerator.split(":")[0] + ":" + r.gpus());
            return;
        }
        throw BackendException.permanent("experiment " + r.experimentName() + " asks for " + r.gpus()
                + " GPUs per node but names no GPU model: set its accelerator (e.g. H100) or an instance type with GPUs,"
                + " set resources.accelerators in the task template, or set a default with SKYDECK_DEFAULT_ACCELERATOR"
                + " (--default-accelerator)");
    }

    /**
     * The git workdir: SkyDeck's repository ({@code SKYDECK_GIT_REPO}), else one the template
     * names ({@code workdir: {url, ref}}); the experiment's branch is its ref when set. Also the
     * envs and secrets the cluster's clone reads, as the official CLI sets them.
     */
    @SuppressWarnings("unchecked")
    private static void workdir(LaunchRequest r, Settings s, Map<String, Object> task, Map<String, Object> envs) {
        GitWorkdir git = s.git();
        String ref = r.gitRef();
        if (git == null && task.get("workdir") instanceof Map<?, ?> w && w.get("url") instanceof String url) {
            try {
                git = GitWorkdir.parse(url, "the task template's workdir");
            } catch (SkyDeckException.InvalidInput e) {
                throw BackendException.permanent(e.getMessage());
            }
            if (ref == null && w.get("ref") != null) {
                ref = String.valueOf(w.get("ref"));
            }
        }
        if (git == null) {
            return;
        }
        Map<String, Object> workdir = new LinkedHashMap<>();
        workdir.put("url", git.url());
        if (ref != null) {
            workdir.put("ref", ref);
        }
        task.put("workdir", workdir);
        envs.putAll(git.envs(ref, s.gitSshKey() != null && !git.usesToken()));
        Map<String, Object> secrets = null;
        if (s.gitToken() != null && (git.usesToken() || s.gitSshKey() == null)) { // cloned over https
            secrets = mapping(task, "secrets");
            secrets.put("GIT_TOKEN", s.gitToken());
        }
        if (s.gitSshKey() != null && !git.usesToken()) {
            secrets = secrets != null ? secrets : mapping(task, "secrets");
            secrets.put("GIT_SSH_KEY", s.gitSshKey());
        }
    }
}
