package dev.skydeck.internal.local;

import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;

/**
 * Signals a job's command and all its descendants, never the job's runner. Handles keep the
 * process start time, so signalling a handle again later never hits a reused pid.
 */
public final class ProcessTree {
    private ProcessTree() {
    }

    /**
     * The command and everything below the runner and the command right now.
     *
     * @param runner  the job's runner, when alive (its descendants are the command's tree)
     * @param command the command, when alive (found through its pid file if the runner is gone)
     */
    public static Set<ProcessHandle> snapshot(Optional<ProcessHandle> runner, Optional<ProcessHandle> command) {
        Set<ProcessHandle> tree = new LinkedHashSet<>();
        runner.ifPresent(r -> r.descendants().forEach(tree::add));
        command.ifPresent(c -> {
            tree.add(c);
            c.descendants().forEach(tree::add);
        });
        return tree;
    }

    /**
     * Sends SIGTERM to every process of the tree, then once more to processes the tree gained
     * meanwhile; returns every process signalled, for a later {@link #kill(Set)}.
     */
    public static Set<ProcessHandle> terminate(Optional<ProcessHandle> runner, Optional<ProcessHandle> command) {
        Set<ProcessHandle> seen = snapshot(runner, command);
        seen.forEach(ProcessHandle::destroy);
        Set<ProcessHandle> late = snapshot(runner, command);
        late.removeAll(seen);
        late.forEach(ProcessHandle::destroy);
        seen.addAll(late);
        return seen;
    }

    /** Sends SIGKILL to whatever of {@code processes} is still alive; returns how many it signalled. */
    public static int kill(Set<ProcessHandle> processes) {
        int killed = 0;
        for (ProcessHandle p : processes) {
            if (p.isAlive() && p.destroyForcibly()) {
                killed++;
            }
        }
        return killed;
    }
}
