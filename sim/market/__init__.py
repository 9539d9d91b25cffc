"""The bidding market: firms, tenders, collusive rings with their traces, awards, and their truth."""
