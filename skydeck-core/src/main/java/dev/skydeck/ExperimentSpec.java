package dev.skydeck;

import dev.skydeck.internal.Validate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * What a user declares about an experiment: an immutable value, validated on construction,
 * with "wither" methods that return a changed copy.
 *
 * <pre>{@code
 * ExperimentSpec spec = ExperimentSpec.named("ppo_4layer")
 *         .flag("trainer.losses.ppo.enabled", true)
 *         .flag("policy_architecture.core_resnet_layers", 4)
 *         .gpus(4)
 *         .desired(DesiredState.RUNNING);
 * }</pre>
 *
 * @param name          unique among live experiments; the key its jobs and checkpoint folder are found by
 *                      (1 to 128 characters: see the README's note on names)
 * @param flags         ordered dotted keys to scalars (string, long, double, boolean)
 * @param baseCommand   the program to run, split into words like a POSIX shell (default {@code lt})
 * @param toolPath      optional tool argument such as {@code recipes.experiment.arena.train}
 * @param gitBranch     optional git ref to run
 * @param nodes         machines per job, at least 1
 * @param gpus          GPUs per node, at least 0
 * @param resources     cloud, region, instance type, accelerator, spot
 * @param desiredState  what the experiment should be doing
 * @param restartPolicy when to launch again after a job ends
 * @param priority      higher launches first when the launch queue is full
 * @param description   free text, at most 4096 characters
 * @param tags          labels, each like a name
 * @param taskTemplate  optional backend task template (SkyPilot YAML) overriding the default
 * @param runName       the value of the command line's {@code run=} argument when it is not the name
 *                      (the original SkyDeck's {@code run_name}), or {@code null} for the name
 */
public record ExperimentSpec(String name, Map<String, Object> flags, String baseCommand, String toolPath,
                             String gitBranch, int nodes, int gpus, Resources resources,
                             DesiredState desiredState, RestartPolicy restartPolicy, int priority,
                             String description, List<String> tags, String taskTemplate, String runName) {
    /** The base command used when none is given. */
    public static final String DEFAULT_BASE_COMMAND = "lt";

    /** Validates and normalises every field. */
    public ExperimentSpec {
        name = Validate.name("experiment name", name);
        flags = Validate.flags(flags);
        baseCommand = Validate.command(baseCommand == null ? DEFAULT_BASE_COMMAND : baseCommand);
        CommandLine.split(baseCommand);
        toolPath = Validate.optional("tool_path", toolPath, Validate.TOOL_PATH,
                "letters, digits and . _ / : - (at most 256), no '..'");
        gitBranch = Validate.optional("git_branch", gitBranch, Validate.GIT_REF,
                "letters, digits and . _ / + - (at most 200), no '..', not starting with '-'");
        Validate.range("nodes", nodes, 1, 4096);
        Validate.range("gpus", gpus, 0, 64);
        resources = resources == null ? Resources.ANY : resources;
        desiredState = desiredState == null ? DesiredState.STOPPED : desiredState;
        restartPolicy = restartPolicy == null ? RestartPolicy.NEVER : restartPolicy;
        Validate.range("priority", priority, -1_000_000, 1_000_000);
        description = Validate.text("description", description, 4096);
        tags = Validate.tags(tags);
        taskTemplate = Validate.text("task_template", taskTemplate, 65_536);
        runName = runName == null || runName.isEmpty() ? null : Validate.name("run_name", runName);
    }

    /** A spec with the given name and every default: {@code lt}, 1 node, 0 GPUs, STOPPED. */
    public static ExperimentSpec named(String name) {
        return new ExperimentSpec(name, Map.of(), DEFAULT_BASE_COMMAND, null, null, 1, 0, Resources.ANY,
                DesiredState.STOPPED, RestartPolicy.NEVER, 0, null, List.of(), null, null);
    }

    /** This spec under another name. */
    public ExperimentSpec name(String value) {
        return new ExperimentSpec(value, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with one flag set (added at the end, or replaced in place). */
    public ExperimentSpec flag(String key, Object value) {
        Map<String, Object> copy = new LinkedHashMap<>(flags);
        copy.put(Validate.flagKey(key), value);
        return flags(copy);
    }

    /** This spec without the flag {@code key}. */
    public ExperimentSpec withoutFlag(String key) {
        Map<String, Object> copy = new LinkedHashMap<>(flags);
        copy.remove(key);
        return flags(copy);
    }

    /** This spec with all flags replaced. */
    public ExperimentSpec flags(Map<String, ?> value) {
        return new ExperimentSpec(name, Validate.flags(value), baseCommand, toolPath, gitBranch, nodes, gpus,
                resources, desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another base command. */
    public ExperimentSpec baseCommand(String value) {
        return new ExperimentSpec(name, flags, value, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another tool path ({@code null} for none). */
    public ExperimentSpec toolPath(String value) {
        return new ExperimentSpec(name, flags, baseCommand, value, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another git branch ({@code null} for none). */
    public ExperimentSpec gitBranch(String value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, value, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another node count. */
    public ExperimentSpec nodes(int value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, value, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another GPU count per node. */
    public ExperimentSpec gpus(int value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, value, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with other resources. */
    public ExperimentSpec resources(Resources value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, value,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another cloud. */
    public ExperimentSpec cloud(String value) {
        return resources(resources.withCloud(value));
    }

    /** This spec with another region. */
    public ExperimentSpec region(String value) {
        return resources(resources.withRegion(value));
    }

    /** This spec with another instance type. */
    public ExperimentSpec instanceType(String value) {
        return resources(resources.withInstanceType(value));
    }

    /** This spec with another accelerator (GPU model). */
    public ExperimentSpec accelerator(String value) {
        return resources(resources.withAccelerator(value));
    }

    /** This spec with spot capacity on or off. */
    public ExperimentSpec spot(boolean value) {
        return resources(resources.withSpot(value));
    }

    /** This spec with another desired state. */
    public ExperimentSpec desired(DesiredState value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                Objects.requireNonNull(value, "desired state"), restartPolicy, priority, description, tags,
                taskTemplate, runName);
    }

    /** This spec with another restart policy. */
    public ExperimentSpec restartPolicy(RestartPolicy value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, value, priority, description, tags, taskTemplate, runName);
    }

    /** This spec with another launch priority. */
    public ExperimentSpec priority(int value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, value, description, tags, taskTemplate, runName);
    }

    /** This spec with another description. */
    public ExperimentSpec description(String value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, value, tags, taskTemplate, runName);
    }

    /** This spec with other tags. */
    public ExperimentSpec tags(List<String> value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, value, taskTemplate, runName);
    }

    /** This spec with a per-experiment backend task template ({@code null} for the default). */
    public ExperimentSpec taskTemplate(String value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, value, runName);
    }

    /** This spec with another {@code run=} value ({@code null}: the name). */
    public ExperimentSpec runName(String value) {
        return new ExperimentSpec(name, flags, baseCommand, toolPath, gitBranch, nodes, gpus, resources,
                desiredState, restartPolicy, priority, description, tags, taskTemplate, value);
    }

    /** What the command line passes as {@code run=}: {@link #runName()} when set, else the name. */
    public String run() {
        return runName != null ? runName : name;
    }

    /** GPUs the experiment's job uses in total ({@code nodes × gpus}). */
    public int totalGpus() {
        return nodes * gpus;
    }

    /**
     * The fields that differ from {@code before}, named as the REST API names them
     * ({@code flags.lr} for each flag added, removed or changed in value or type, {@code gpus},
     * {@code resources.instance_type}, {@code desired_state}, …); empty when the two are equal.
     */
    public List<String> changesFrom(ExperimentSpec before) {
        List<String> out = new java.util.ArrayList<>();
        java.util.Set<String> keys = new java.util.TreeSet<>(before.flags.keySet());
        keys.addAll(flags.keySet());
        for (String k : keys) {
            if (!Objects.equals(before.flags.get(k), flags.get(k))) {
                out.add("flags." + k);
            }
        }
        Resources b = before.resources;
        Object[][] fields = {
            {"name", before.name, name}, {"base_command", before.baseCommand, baseCommand},
            {"tool_path", before.toolPath, toolPath}, {"git_branch", before.gitBranch, gitBranch},
            {"nodes", before.nodes, nodes}, {"gpus", before.gpus, gpus},
            {"resources.cloud", b.cloud(), resources.cloud()}, {"resources.region", b.region(), resources.region()},
            {"resources.instance_type", b.instanceType(), resources.instanceType()},
            {"resources.accelerator", b.accelerator(), resources.accelerator()},
            {"resources.spot", b.spot(), resources.spot()}, {"resources.pool", b.pool(), resources.pool()},
            {"desired_state", before.desiredState, desiredState},
            {"restart_policy", before.restartPolicy, restartPolicy}, {"priority", before.priority, priority},
            {"description", before.description, description}, {"tags", before.tags, tags},
            {"task_template", before.taskTemplate, taskTemplate}, {"run_name", before.runName, runName}};
        for (Object[] f : fields) {
            if (!Objects.equals(f[1], f[2])) {
                out.add((String) f[0]);
            }
        }
        return out;
    }

    /**
     * A short hash of what a job of this spec runs: flags (with their types), command, tool path,
     * git branch, nodes, GPUs, resources, task template and run name. Name, desired state, restart policy,
     * priority, description and tags are not part of it. Jobs record the hash they were launched
     * with, so an experiment whose hash differs from its active job's has drifted.
     */
    public String configHash() {
        StringBuilder b = new StringBuilder(256);
        java.util.TreeMap<String, Object> sorted = new java.util.TreeMap<>(flags);
        for (Map.Entry<String, Object> e : sorted.entrySet()) {
            Object v = e.getValue();
            char type = v instanceof Long ? 'i' : v instanceof Double ? 'd' : v instanceof Boolean ? 'b' : 's';
            b.append(e.getKey()).append('=').append(type).append(':').append(v).append('\0');
        }
        Resources r = resources;
        for (Object part : new Object[] {baseCommand, toolPath, gitBranch, nodes, gpus, r.cloud(), r.region(),
            r.instanceType(), r.accelerator(), r.spot(), r.pool(), taskTemplate}) {
            b.append('\u0001').append(part == null ? "" : part);
        }
        if (runName != null) {
            // only when set, so hashes of specs without one stay what they were
            b.append('\u0002').append(runName);
        }
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(b.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest, 0, 8);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
