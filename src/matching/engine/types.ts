export interface EnginePaper {
  id: string;
  title: string;
  abstract: string;
  authors?: string[];
}

export interface TopicMatch {
  paperId: string;
  score: number;
  /** Short human text for the email, e.g. 'phrase "diffusion models" in title; "guidance" in abstract'. */
  why: string;
}
