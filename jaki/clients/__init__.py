"""Generic clients below every domain: the agency HTTP client, its circuit breaker and call statistics."""
