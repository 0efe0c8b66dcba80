"""Analytics and ML over gold: metric views, feature tables, forecasts, predictions, budgets and SLOs."""
