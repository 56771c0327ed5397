"""Evaluation: translation scores (BLEU, chrF, TER), and the attention as numbers and pictures."""
