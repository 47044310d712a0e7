-- AlterTable
ALTER TABLE "subscriber" ADD COLUMN     "send_weekday" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN     "soft_bounces" INTEGER NOT NULL DEFAULT 0;

