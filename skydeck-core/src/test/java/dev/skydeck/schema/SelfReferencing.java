package dev.skydeck.schema;

/** A type that contains itself, directly and through another type. */
public class SelfReferencing {
    public int depth = 1;
    public SelfReferencing next;
    public Other other = new Other();

    /** Points back at its parent type. */
    public static class Other {
        public String label = "x";
        public SelfReferencing back;
    }
}
