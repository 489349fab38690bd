"""Money: the ledger and the rules that move it (shared/DESIGN.md §4).

ledger: the one posting function and balances. amounts: cents from and to text.
tiers: a clipper's tier and split. funds: client deposits and campaign budgets.
earnings: approvals, CPM and bonuses. holds: pending to available, fraud holds.
payouts: requests and an admin's decisions. reports: balances, statements, totals.
"""
