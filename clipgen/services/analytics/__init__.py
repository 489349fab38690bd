"""Analytics: each role's dashboard figures and charts, aggregated in SQL.

`clipper`, `client` and `admin` hold one dashboard each (the client's also per campaign);
`periods` the date ranges and the dialect-neutral day of a timestamp; `views` the views
over time every dashboard shares; `export` the CSV of every chart.
"""
