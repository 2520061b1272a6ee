-- Issue 8: a live projector batch goes to PostgreSQL in one round trip, its COMMIT right behind its writes. The check
-- that no other projector has moved the checkpoint must then fail inside the transaction, so that the COMMIT rolls it
-- back: this raises with its own SQLSTATE, which the runner reads as "the checkpoint moved".
CREATE FUNCTION projection_checkpoint_moved(projection text) RETURNS boolean LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'projection %: another projector moved the checkpoint', projection USING ERRCODE = 'CB001';
END;
$$;
