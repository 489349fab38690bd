"""The rules of the business. Plain Python: never imports Reflex.

Every public call takes the acting user (or the credentials that identify
one) and checks that they may do what they ask.
"""
