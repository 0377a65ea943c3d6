package dev.skydeck.internal.reconcile;

import dev.skydeck.Experiment;
import dev.skydeck.Job;
import dev.skydeck.JobStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * SkyDeck's launch queue: experiments due to launch while a global limit
 * ({@code max_concurrent_launches}, {@code max_gpus}) is reached wait here, by priority
 * (higher first), then by the time they started waiting, then by id. An experiment is admitted
 * only if it still fits after everything ahead of it, so lower priorities never overtake.
 */
final class LaunchQueue {
    private record Entry(long id, int priority, Instant since, int gpus) {
    }

    private static final Comparator<Entry> ORDER = Comparator.comparingInt(Entry::priority).reversed()
            .thenComparing(Entry::since).thenComparingLong(Entry::id);

    private final int maxLaunches;
    private final int maxGpus;
    private final Map<Long, Entry> waiting = new HashMap<>();

    LaunchQueue(int maxLaunches, int maxGpus) {
        this.maxLaunches = maxLaunches;
        this.maxGpus = maxGpus;
    }

    /** Whether any limit is set (without limits every launch is admitted at once). */
    boolean limited() {
        return maxLaunches > 0 || maxGpus > 0;
    }

    /** The verdict for one experiment. */
    record Admission(boolean admitted, String reason, int position) {
    }

    /**
     * Admits the experiment or queues it. Callers hold the queue's lock across admission and
     * recording the launch, so that capacity is never handed out twice.
     */
    Admission admit(Experiment e, Instant now, List<Job> activeJobs, int backendGpuCapacity) {
        if (!limited() && backendGpuCapacity <= 0) {
            return new Admission(true, null, 0);
        }
        if (backendGpuCapacity > 0 && e.spec().totalGpus() > backendGpuCapacity) {
            // It can never fit on this backend: let the backend refuse it with its own reason.
            waiting.remove(e.id());
            return new Admission(true, null, 0);
        }
        waiting.computeIfAbsent(e.id(), id -> new Entry(id, e.spec().priority(), now, e.spec().totalGpus()));
        int launching = 0;
        int gpusInUse = 0;
        for (Job j : activeJobs) {
            if (j.status() == JobStatus.INIT || j.status() == JobStatus.PENDING || j.status() == JobStatus.STARTING) {
                launching++;
            }
            gpusInUse += j.nodes() * j.gpus();
        }
        int gpuLimit = maxGpus > 0 && backendGpuCapacity > 0 ? Math.min(maxGpus, backendGpuCapacity)
                : Math.max(maxGpus, backendGpuCapacity);
        List<Entry> order = new ArrayList<>(waiting.values());
        order.sort(ORDER);
        int slotsAhead = 0;
        int gpusAhead = 0;
        int position = 0;
        for (Entry entry : order) {
            position++;
            if (entry.id() == e.id()) {
                break;
            }
            slotsAhead++;
            gpusAhead += entry.gpus();
        }
        int need = e.spec().totalGpus();
        if (maxLaunches > 0 && launching + slotsAhead >= maxLaunches) {
            return new Admission(false, "queued (position " + position + " of " + order.size()
                    + "): " + launching + " of " + maxLaunches + " launches in progress", position);
        }
        if (gpuLimit > 0 && need > gpuLimit) {
            return new Admission(false, "needs " + need + " GPUs but at most " + gpuLimit
                    + " can be in use: lower nodes × gpus or raise the GPU limit", position);
        }
        if (gpuLimit > 0 && gpusInUse + gpusAhead + need > gpuLimit) {
            return new Admission(false, "waiting: " + gpusInUse + " of " + gpuLimit + " GPUs in use (queue position "
                    + position + " of " + order.size() + ")", position);
        }
        waiting.remove(e.id());
        return new Admission(true, null, position);
    }

    /** Removes an experiment that no longer waits. */
    void remove(long id) {
        waiting.remove(id);
    }

    /** Ids waiting, in queue order. */
    List<Long> waitingIds() {
        List<Entry> order = new ArrayList<>(waiting.values());
        order.sort(ORDER);
        return order.stream().map(Entry::id).toList();
    }
}
