//! Repeat failure: missed K of the last N occurrences raises one alert per streak.
