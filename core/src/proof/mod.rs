//! Photo proof: capture (decode, orient, scale, re-encode, thumbnail, strip metadata) and the content-addressed blob store.
