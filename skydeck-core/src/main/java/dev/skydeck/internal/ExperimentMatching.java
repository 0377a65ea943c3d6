package dev.skydeck.internal;

import dev.skydeck.DesiredState;
import dev.skydeck.Experiment;
import dev.skydeck.ExperimentFacets;
import dev.skydeck.ExperimentQuery;
import dev.skydeck.Group;
import dev.skydeck.GroupSummary;
import dev.skydeck.JobStatus;
import dev.skydeck.Page;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * {@link ExperimentQuery} evaluated in Java over experiments in memory: the reference every store
 * agrees with (the in-memory store uses it; SQL stores do the same in SQL).
 */
public final class ExperimentMatching {
    /** Code point order (String.compareTo is UTF-16 unit order, which differs above U+FFFF). */
    public static final Comparator<String> CODE_POINTS = (a, b) -> {
        int i = 0;
        int j = 0;
        while (i < a.length() && j < b.length()) {
            int ca = a.codePointAt(i);
            int cb = b.codePointAt(j);
            if (ca != cb) {
                return Integer.compare(ca, cb);
            }
            i += Character.charCount(ca);
            j += Character.charCount(cb);
        }
        return Boolean.compare(i < a.length(), j < b.length());
    };

    private final List<Group> groups;
    private final java.util.function.Function<Experiment, java.time.Instant> started;
    private final Set<Long> grouped = new HashSet<>();

    /**
     * Matching against these groups (for {@link ExperimentQuery#group()}), with {@code started}
     * saying when an experiment's latest job started ({@code null}: not started, or no job).
     */
    public ExperimentMatching(List<Group> groups, java.util.function.Function<Experiment, java.time.Instant> started) {
        this.groups = groups;
        this.started = started;
        for (Group g : groups) {
            grouped.addAll(g.experimentIds());
        }
    }

    /** Which filter a facet leaves out. */
    private enum Skip { NONE, STATES, DESIRED, FLAG }

    private Predicate<Experiment> filter(ExperimentQuery q, Skip skip, String skipFlag) {
        String needle = q.searchNeedle();
        Set<Long> members = null;
        if (q.group() != null && q.group() != ExperimentQuery.UNGROUPED) {
            members = new HashSet<>();
            for (Group g : groups) {
                if (g.id() == q.group()) {
                    members.addAll(g.experimentIds());
                }
            }
        }
        Set<Long> inGroup = members;
        return e -> {
            if (!q.includeDeleted() && e.deleted()) {
                return false;
            }
            if (needle != null && !ExperimentQuery.searchText(e.spec()).contains(needle)) {
                return false;
            }
            if (skip != Skip.STATES && !q.states().isEmpty() && !q.states().contains(e.currentState())) {
                return false;
            }
            if (skip != Skip.DESIRED && q.desired() != null && e.desiredState() != q.desired()) {
                return false;
            }
            if (q.tag() != null && !e.spec().tags().contains(q.tag())) {
                return false;
            }
            if (q.createdBy() != null && !q.createdBy().equals(e.createdBy())) {
                return false;
            }
            for (Map.Entry<String, List<String>> f : q.flagValues().entrySet()) {
                if (skip == Skip.FLAG && f.getKey().equals(skipFlag)) {
                    continue;
                }
                Object value = e.flags().get(f.getKey());
                boolean ok = value == null ? f.getValue().contains(ExperimentQuery.MISSING)
                        : f.getValue().contains(ExperimentQuery.flagText(value));
                if (!ok) {
                    return false;
                }
            }
            if (q.group() != null) {
                boolean member = q.group() == ExperimentQuery.UNGROUPED ? !grouped.contains(e.id())
                        : inGroup.contains(e.id());
                if (!member) {
                    return false;
                }
            }
            return true;
        };
    }

    /** The page {@code q} asks for out of {@code all} (derived experiments, deleted ones included). */
    public Page<Experiment> page(List<Experiment> all, ExperimentQuery q) {
        List<Experiment> matching = all.stream().filter(filter(q, Skip.NONE, null)).sorted(comparator(q)).toList();
        int from = Math.min(matching.size(), q.offset());
        int to = Math.min(matching.size(), from + q.limit());
        return new Page<>(matching.subList(from, to), matching.size());
    }

    /** The order of {@code q}: its key (missing values last in both directions), then the user's order, then id. */
    public Comparator<Experiment> comparator(ExperimentQuery q) {
        boolean desc = q.descending();
        Comparator<Experiment> tie = Comparator.comparingInt(Experiment::order).thenComparingLong(Experiment::id);
        if (q.sort() == ExperimentQuery.Sort.ORDER && q.group() != null && q.group() != ExperimentQuery.UNGROUPED) {
            Map<Long, Integer> position = new HashMap<>();
            for (Group g : groups) {
                if (g.id() == q.group()) {
                    for (int i = 0; i < g.experimentIds().size(); i++) {
                        position.put(g.experimentIds().get(i), i);
                    }
                }
            }
            tie = Comparator.comparingInt((Experiment e) -> position.getOrDefault(e.id(), Integer.MAX_VALUE))
                    .thenComparingLong(Experiment::id);
        }
        Comparator<Experiment> key = switch (q.sort()) {
            case ORDER -> null;
            case NAME -> Comparator.comparing(Experiment::name, CODE_POINTS);
            case CREATED_AT -> Comparator.comparing(Experiment::createdAt);
            case UPDATED_AT -> Comparator.comparing(Experiment::updatedAt);
            case PRIORITY -> Comparator.comparingInt(e -> e.spec().priority());
            case STATE -> Comparator.comparing(e -> e.currentState().name(), CODE_POINTS);
            case EPOCH -> Comparator.comparing(Experiment::latestEpoch);
            case STARTED_AT -> Comparator.comparing(this::startedKey);
            case FLAG -> Comparator.comparing((Experiment e) -> flagKey(e, q.sortFlag()));
        };
        Comparator<Experiment> ordered = key == null ? tie : key.thenComparing(tie);
        if (desc) {
            ordered = ordered.reversed();
        }
        Predicate<Experiment> missing = switch (q.sort()) {
            case EPOCH -> e -> e.latestEpoch() == null;
            case STARTED_AT -> e -> startedKey(e) == null;
            case FLAG -> e -> !e.flags().containsKey(q.sortFlag());
            default -> e -> false;
        };
        Comparator<Experiment> lastMissing = Comparator.comparing(missing::test);
        // null keys never reach the key comparator: missing ones compare by the tie only
        Comparator<Experiment> inner = ordered;
        Comparator<Experiment> tieOnly = desc ? tie.reversed() : tie;
        return lastMissing.thenComparing((a, b) -> missing.test(a) ? tieOnly.compare(a, b) : inner.compare(a, b));
    }

    private java.time.Instant startedKey(Experiment e) {
        return started.apply(e);
    }

    private record FlagKey(Double number, String text) implements Comparable<FlagKey> {
        @Override
        public int compareTo(FlagKey o) {
            if (number != null && o.number != null) {
                int c = Double.compare(number, o.number);
                return c != 0 ? c : CODE_POINTS.compare(text, o.text);
            }
            if (number != null || o.number != null) {
                return number != null ? -1 : 1;
            }
            return CODE_POINTS.compare(text, o.text);
        }
    }

    private static FlagKey flagKey(Experiment e, String flag) {
        Object v = e.flags().get(flag);
        return new FlagKey(ExperimentQuery.flagNumber(v), ExperimentQuery.flagText(v));
    }

    /** Facet counts for {@code q} over {@code all}, at most {@code maxValues} values per flag. */
    public ExperimentFacets facets(List<Experiment> all, ExperimentQuery q, int maxValues) {
        long total = all.stream().filter(filter(q, Skip.NONE, null)).count();
        Map<JobStatus, Long> states = new EnumMap<>(JobStatus.class);
        all.stream().filter(filter(q, Skip.STATES, null)).forEach(e -> states.merge(e.currentState(), 1L, Long::sum));
        Map<DesiredState, Long> desired = new EnumMap<>(DesiredState.class);
        all.stream().filter(filter(q, Skip.DESIRED, null)).forEach(e -> desired.merge(e.desiredState(), 1L, Long::sum));
        // per flag: its value counts over the experiments matching every filter but its own
        Map<String, Map<String, Long>> values = new TreeMap<>(CODE_POINTS);
        for (Experiment e : all.stream().filter(filter(q, Skip.NONE, null)).toList()) {
            e.flags().forEach((name, v) -> {
                if (!q.flagValues().containsKey(name)) {
                    values.computeIfAbsent(name, n -> new HashMap<>()).merge(ExperimentQuery.flagText(v), 1L, Long::sum);
                }
            });
        }
        for (String name : q.flagValues().keySet()) {
            for (Experiment e : all.stream().filter(filter(q, Skip.FLAG, name)).toList()) {
                Object v = e.flags().get(name);
                if (v != null) {
                    values.computeIfAbsent(name, n -> new HashMap<>()).merge(ExperimentQuery.flagText(v), 1L, Long::sum);
                }
            }
        }
        List<ExperimentFacets.FlagFacet> flags = new ArrayList<>();
        values.forEach((name, counts) -> {
            List<ExperimentFacets.ValueCount> sorted = counts.entrySet().stream()
                    .map(x -> new ExperimentFacets.ValueCount(x.getKey(), x.getValue()))
                    .sorted(Comparator.comparingLong(ExperimentFacets.ValueCount::count).reversed()
                            .thenComparing(ExperimentFacets.ValueCount::value, CODE_POINTS))
                    .toList();
            long count = counts.values().stream().mapToLong(Long::longValue).sum();
            flags.add(new ExperimentFacets.FlagFacet(name, count, sorted.size(), sorted.size() > maxValues,
                    sorted.subList(0, Math.min(maxValues, sorted.size()))));
        });
        return new ExperimentFacets(total, states, desired, flags);
    }

    /** Every group's summary over {@code all} (derived experiments), and the ungrouped live ones. */
    public GroupSummary.All summaries(List<Experiment> all) {
        Map<Long, Experiment> live = new HashMap<>();
        for (Experiment e : all) {
            if (!e.deleted()) {
                live.put(e.id(), e);
            }
        }
        List<GroupSummary> out = new ArrayList<>();
        for (Group g : groups) {
            List<Experiment> members = g.experimentIds().stream().map(live::get).filter(Objects::nonNull).toList();
            Map<JobStatus, Long> states = new EnumMap<>(JobStatus.class);
            members.forEach(e -> states.merge(e.currentState(), 1L, Long::sum));
            Map<String, Set<String>> seen = new HashMap<>();
            Map<String, Integer> having = new HashMap<>();
            Map<String, Object> first = new HashMap<>();
            for (Experiment e : members) {
                e.flags().forEach((name, v) -> {
                    seen.computeIfAbsent(name, n -> new HashSet<>()).add(kind(v) + ExperimentQuery.flagText(v));
                    having.merge(name, 1, Integer::sum);
                    first.putIfAbsent(name, v);
                });
            }
            Map<String, Object> common = new TreeMap<>();
            List<String> varying = new ArrayList<>();
            seen.forEach((name, distinct) -> {
                if (distinct.size() == 1 && having.get(name) == members.size()) {
                    common.put(name, first.get(name));
                } else {
                    varying.add(name);
                }
            });
            out.add(new GroupSummary(g.withExperimentIds(List.of()), members.size(), states, common, varying));
        }
        Map<JobStatus, Long> ungrouped = new EnumMap<>(JobStatus.class);
        long count = 0;
        for (Experiment e : live.values()) {
            if (!grouped.contains(e.id())) {
                ungrouped.merge(e.currentState(), 1L, Long::sum);
                count++;
            }
        }
        return new GroupSummary.All(out, count, ungrouped);
    }

    private static char kind(Object v) {
        return v instanceof String ? 's' : v instanceof Boolean ? 'b' : v instanceof Long ? 'l' : 'd';
    }
}
